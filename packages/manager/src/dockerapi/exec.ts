// Docker's exec: POST /containers/{id}/exec keeps the exec's config on this manager under a
// random id; POST /exec/{id}/start runs it as one container call (hijack.ts for the CLI's
// upgraded connection, the plain POST here: output only); /exec/{id}/resize, /exec/{id}/json.
// An exec is tied to its client: it is started attached, and ends when its client goes.
// Finished and never started execs are forgotten after a while, and there are at most MAX_EXECS.
import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import type { TLSSocket } from "node:tls";
import {
  ContainerOp,
  ErrorCode,
  InvalidArgumentError,
  ShoalError,
  type ExecConfig,
  type TerminalSize,
} from "@shoal/shared";
import type { ContainerCallSession } from "../containers/container-calls-client.js";
import { openStarted, pipeCall } from "./call-stream.js";
import { adminCaller, callJson, openMessage } from "./container-call.js";
import { sizeParams } from "./containers.js";
import type { DockerApiContext } from "./context.js";
import type { Handler } from "./router.js";

export const MAX_EXECS = 1000;
/** How long a finished exec's record (its exit code) is kept. */
export const FINISHED_TTL_MS = 10 * 60_000;
/** How long an exec may wait to be started. */
export const UNSTARTED_TTL_MS = 10 * 60_000;

export interface ExecRecord {
  readonly id: string;
  /** The container as the client named it, and its id. */
  readonly container: string;
  readonly containerId: string;
  readonly config: ExecConfig;
  readonly createdAt: number;
  state: "created" | "running" | "exited";
  exitCode: number | null;
  endedAt: number;
  /** The latest size asked for (sent with the open, or to the call once open). */
  size: TerminalSize | undefined;
  session: ContainerCallSession | undefined;
}

export class ExecStore {
  private readonly records = new Map<string, ExecRecord>();

  constructor(private readonly now: () => number) {}

  add(container: string, containerId: string, config: ExecConfig, size: TerminalSize | undefined): ExecRecord {
    this.prune();
    if (this.records.size >= MAX_EXECS) {
      throw new ShoalError(ErrorCode.ResourceExhausted, `too many execs on this manager (${MAX_EXECS})`);
    }
    const record: ExecRecord = {
      id: randomBytes(32).toString("hex"),
      container,
      containerId,
      config,
      createdAt: this.now(),
      state: "created",
      exitCode: null,
      endedAt: 0,
      size,
      session: undefined,
    };
    this.records.set(record.id, record);
    return record;
  }

  get(id: string): ExecRecord {
    const record = this.records.get(id);
    if (!record) throw new ShoalError(ErrorCode.NotFound, `No such exec instance: ${id}`);
    return record;
  }

  /** Forgets finished execs after FINISHED_TTL_MS and unstarted ones after UNSTARTED_TTL_MS. */
  prune(): void {
    const now = this.now();
    for (const [id, r] of this.records) {
      const stale =
        (r.state === "exited" && now - r.endedAt > FINISHED_TTL_MS) ||
        (r.state === "created" && now - r.createdAt > UNSTARTED_TTL_MS);
      if (stale) this.records.delete(id);
    }
  }
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new InvalidArgumentError("must be a list of strings", { field });
  }
  return value as string[];
}

function typed<T>(body: Record<string, unknown>, field: string, type: "boolean" | "string", fallback: T): T {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== type) throw new InvalidArgumentError(`must be a ${type}`, { field });
  return value as T;
}

/** Docker's ExecConfig body as the call's; 400 naming the field. */
export function parseExecConfig(body: unknown): { config: ExecConfig; size: TerminalSize | undefined } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError("must be a JSON object", { field: "body" });
  }
  const b = body as Record<string, unknown>;
  const cmd = stringList(b["Cmd"], "Cmd");
  if (cmd.length === 0) throw new InvalidArgumentError("No exec command specified", { field: "Cmd" });
  const consoleSize = b["ConsoleSize"];
  let size: TerminalSize | undefined;
  if (Array.isArray(consoleSize) && consoleSize.length === 2 && consoleSize.every((n) => Number.isInteger(n))) {
    const [height, width] = consoleSize as number[];
    if (height! > 0 && width! > 0) size = { height: height!, width: width! };
  }
  return {
    config: {
      cmd,
      env: stringList(b["Env"], "Env"),
      user: typed(b, "User", "string", ""),
      workingDir: typed(b, "WorkingDir", "string", ""),
      tty: typed(b, "Tty", "boolean", false),
      attachStdin: typed(b, "AttachStdin", "boolean", false),
      attachStdout: typed(b, "AttachStdout", "boolean", false),
      attachStderr: typed(b, "AttachStderr", "boolean", false),
      privileged: typed(b, "Privileged", "boolean", false),
      detachKeys: typed(b, "DetachKeys", "string", ""),
    },
    size,
  };
}

/** The start body: Detach is refused (an exec is tied to its client). */
export function checkStartBody(body: unknown): void {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (b["Detach"] === true) {
    throw new InvalidArgumentError(
      "a detached exec is not supported: an exec runs while its client is attached (run it without -d)",
      { field: "Detach" },
    );
  }
}

/**
 * Runs a created exec: the call is opened with the exec's config and latest size, and piped to the
 * client; `ready` runs once the call started (the hijack answers 101 then). Records the exit code
 * before it returns, so that GET /exec/{id}/json has it when the client asks.
 */
export async function runExec(
  ctx: DockerApiContext,
  record: ExecRecord,
  caller: string,
  io: { out: Writable; input: Readable | undefined; ready: () => void },
  signal: AbortSignal,
): Promise<void> {
  if (record.state !== "created") {
    throw new ShoalError(ErrorCode.AlreadyExists, `Error: Exec command ${record.id} has already run`);
  }
  record.state = "running";
  // Input the exec does not take is read and dropped, so that the client's going is seen.
  if (!record.config.attachStdin) io.input?.resume();
  let code: number | undefined;
  try {
    const open = openMessage(record.containerId || record.container, ContainerOp.EXEC, {
      exec: record.config,
      caller,
      size: record.size,
    });
    const call = await openStarted(ctx, open, signal);
    record.session = call.session;
    io.ready();
    code = await pipeCall(call, io.out, record.config.attachStdin ? io.input : undefined, record.config.tty);
  } finally {
    record.session = undefined;
    // No exit code (the call failed or the client left): 255, as a shell shows a lost command.
    record.exitCode = code ?? 255;
    record.state = "exited";
    record.endedAt = ctx.clock.now();
  }
}

export function execHandlers(ctx: DockerApiContext, execs: ExecStore): Record<string, Handler> {
  return {
    create: async (req) => {
      const caller = adminCaller(req.raw.socket as TLSSocket);
      const { config, size } = parseExecConfig(await req.json());
      // The container must exist and run (404, 409 as Docker), found as the exec will find it.
      const inspect = (await callJson(
        ctx,
        openMessage(req.params["id"]!, ContainerOp.INSPECT, { caller }),
        req.signal,
      )) as { Id?: string; State?: { Running?: boolean } };
      if (inspect.State?.Running !== true) {
        throw new ShoalError(ErrorCode.AlreadyExists, `Container ${req.params["id"]!} is not running`);
      }
      const record = execs.add(req.params["id"]!, inspect.Id ?? "", config, size);
      return { status: 201, json: { Id: record.id } };
    },
    // Without the upgrade (an SDK's plain POST): the output streamed, no input.
    start: async (req) => {
      const caller = adminCaller(req.raw.socket as TLSSocket);
      checkStartBody(await req.json());
      const record = execs.get(req.params["id"]!);
      const ready = (): void => {
        const type = record.config.tty ? "raw-stream" : "multiplexed-stream";
        req.res.writeHead(200, { "Content-Type": `application/vnd.docker.${type}` });
        req.res.flushHeaders();
      };
      await runExec(ctx, record, caller, { out: req.res, input: undefined, ready }, req.signal);
      req.res.end();
      return "streamed" as const;
    },
    resize: (req) => {
      const record = execs.get(req.params["id"]!);
      const size = sizeParams(req.query);
      record.size = size;
      record.session?.write({ $case: "resize", value: size });
      return { status: 200 };
    },
    inspect: (req) => {
      const r = execs.get(req.params["id"]!);
      const [entrypoint, ...args] = r.config.cmd;
      return {
        status: 200,
        json: {
          ID: r.id,
          Running: r.state === "running",
          ExitCode: r.exitCode,
          ProcessConfig: {
            tty: r.config.tty,
            entrypoint,
            arguments: args,
            privileged: r.config.privileged,
            ...(r.config.user ? { user: r.config.user } : {}),
          },
          OpenStdin: r.config.attachStdin,
          OpenStderr: r.config.attachStderr,
          OpenStdout: r.config.attachStdout,
          CanRemove: false,
          ContainerID: r.containerId,
          DetachKeys: r.config.detachKeys,
          Pid: 0,
        },
      };
    },
  };
}
