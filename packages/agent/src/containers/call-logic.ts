// The pure parts of serving a container call: which containers a call may reach, what an error
// from Docker becomes for the client, and how Docker's multiplexed output becomes chunks.
import { status } from "@grpc/grpc-js";
import {
  ContainerOp,
  ContainerOutputStream,
  LogStream,
  toServiceError,
  type ContainerCallError,
  type ContainerCallOpen,
  type ContainerOutputChunk,
  type ListenContainerCallsResponse,
} from "@shoal/shared";
import { classifyDockerError, dockerMessage, statusCodeOf } from "../exec/docker/docker-errors.js";
import { FrameParser } from "../exec/docker/container-logs.js";
import { TaskLabel } from "../exec/docker/labels.js";

/** The task a container runs, as its labels name it. */
export interface TaskOfContainer {
  readonly taskId: string;
  readonly serviceId: string;
}

/**
 * The task of a container (Docker's inspect: `Config.Labels`), when it is a Shoal task container
 * of node `nodeId` running task `taskId`; undefined for any other container, which a call must
 * never touch.
 */
export function taskOfContainer(inspect: unknown, taskId: string, nodeId: string): TaskOfContainer | undefined {
  const config = (inspect as { Config?: { Labels?: unknown } } | null)?.Config;
  const labels = config?.Labels;
  if (typeof labels !== "object" || labels === null) return undefined;
  const l = labels as Record<string, unknown>;
  if (taskId === "" || l[TaskLabel.taskId] !== taskId) return undefined;
  if (nodeId === "" || l[TaskLabel.nodeId] !== nodeId) return undefined;
  const serviceId = l[TaskLabel.serviceId];
  return { taskId, serviceId: typeof serviceId === "string" ? serviceId : "" };
}

export function notFound(container: string): ContainerCallError {
  return { code: status.NOT_FOUND, message: `no such container: ${container}` };
}

export function invalid(message: string): ContainerCallError {
  return { code: status.INVALID_ARGUMENT, message };
}

/**
 * What a failed Docker call becomes for the client: the gRPC code of Docker's answer (404
 * NOT_FOUND, 409 FAILED_PRECONDITION, 400 INVALID_ARGUMENT, an unreachable daemon UNAVAILABLE,
 * anything else INTERNAL) with Docker's own message. A 404 about the container itself names it.
 */
export function callError(err: unknown, container?: string): ContainerCallError {
  const code = toServiceError(classifyDockerError(err, "")).code ?? status.INTERNAL;
  if (statusCodeOf(err) === 404 && container !== undefined && /no such container/i.test(dockerMessage(err))) {
    return notFound(container);
  }
  return { code, message: dockerMessage(err) };
}

/** Why the call cannot be served as asked ("" when it can): the field at fault is named. */
export function checkCall(call: ListenContainerCallsResponse): string {
  if (call.callId === "") return "call_id: empty";
  const open: ContainerCallOpen | undefined = call.open;
  if (open === undefined) return "open: missing";
  switch (open.op) {
    case ContainerOp.INSPECT:
    case ContainerOp.TOP:
    case ContainerOp.STATS:
      return "";
    case ContainerOp.EXEC:
      if (open.exec === undefined) return "open.exec: missing for an exec";
      if (open.exec.cmd.length === 0) return "open.exec.cmd: empty";
      return "";
    case ContainerOp.ATTACH:
      return "";
    default:
      return `open.op: unknown operation ${String(open.op)}`;
  }
}

/** The container a call is about, for messages: the resolved id, else what the client named. */
export function callContainerName(call: ListenContainerCallsResponse): string {
  return call.containerId !== "" ? call.containerId : (call.open?.container ?? "");
}

/** Docker's container ids: hex; anything else is not looked up (it would be a path). */
export function isContainerId(id: string): boolean {
  return /^[0-9a-f]{12,64}$/.test(id);
}

/** Splits a non-TTY exec's or attach's multiplexed stream into stdout and stderr chunks. */
export class OutputDemux {
  private readonly frames = new FrameParser();

  push(chunk: Buffer): ContainerOutputChunk[] {
    return this.frames.push(chunk).map(({ stream, payload }) => ({
      stream: stream === LogStream.STDERR ? ContainerOutputStream.STDERR : ContainerOutputStream.STDOUT,
      data: payload,
    }));
  }
}
