import { status } from "@grpc/grpc-js";
import {
  ContainerCallOpen,
  ContainerOp,
  ContainerOutputStream,
  type DeepPartial,
  type ListenContainerCallsResponse,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { OutputDemux, callError, checkCall, isContainerId, taskOfContainer } from "../../src/containers/call-logic.js";

/** What dockerode throws for an HTTP error from the daemon. */
function dockerError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    json: { message },
  });
}

const labels = (l: Record<string, string>): unknown => ({ Config: { Labels: l } });
const TASK_LABELS = { "com.shoal.task.id": "t1", "com.shoal.node.id": "n1", "com.shoal.service.id": "s1" };

describe("taskOfContainer", () => {
  it("names the task of a task container of this node running the call's task", () => {
    expect(taskOfContainer(labels(TASK_LABELS), "t1", "n1")).toEqual({ taskId: "t1", serviceId: "s1" });
  });

  it("refuses containers without Shoal's labels, of another task, or of another node", () => {
    expect(taskOfContainer(labels({}), "t1", "n1")).toBeUndefined();
    expect(taskOfContainer({ Config: { Labels: null } }, "t1", "n1")).toBeUndefined();
    expect(taskOfContainer({}, "t1", "n1")).toBeUndefined();
    expect(taskOfContainer(null, "t1", "n1")).toBeUndefined();
    expect(taskOfContainer(labels(TASK_LABELS), "t2", "n1")).toBeUndefined();
    expect(taskOfContainer(labels(TASK_LABELS), "t1", "n2")).toBeUndefined();
    // A call without a task id never matches a container without one.
    expect(taskOfContainer(labels({ "com.shoal.node.id": "n1" }), "", "n1")).toBeUndefined();
  });
});

describe("callError", () => {
  it("maps Docker's answers to gRPC codes with Docker's message", () => {
    expect(callError(dockerError(409, "Container abc is not running"), "abc")).toEqual({
      code: status.FAILED_PRECONDITION,
      message: "Container abc is not running",
    });
    expect(callError(dockerError(400, "bad parameter"))).toEqual({
      code: status.INVALID_ARGUMENT,
      message: "bad parameter",
    });
    expect(callError(dockerError(500, "boom")).code).toBe(status.INTERNAL);
    expect(callError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })).code).toBe(
      status.UNAVAILABLE,
    );
  });

  it("names the container on a 404 about it", () => {
    expect(callError(dockerError(404, "No such container: 0123456789ab"), "web.1")).toEqual({
      code: status.NOT_FOUND,
      message: "no such container: web.1",
    });
    expect(callError(dockerError(404, "No such exec instance: e1"), "web.1")).toEqual({
      code: status.NOT_FOUND,
      message: "No such exec instance: e1",
    });
  });
});

describe("checkCall", () => {
  const call = (open: DeepPartial<ContainerCallOpen> | undefined): ListenContainerCallsResponse => ({
    callId: "c1",
    taskId: "t1",
    containerId: "0123456789ab",
    open: open === undefined ? undefined : ContainerCallOpen.fromPartial(open as ContainerCallOpen),
  });

  it("accepts each operation with what it needs", () => {
    for (const op of [ContainerOp.INSPECT, ContainerOp.TOP, ContainerOp.STATS, ContainerOp.ATTACH]) {
      expect(checkCall(call({ op }))).toBe("");
    }
    expect(checkCall(call({ op: ContainerOp.EXEC, exec: { cmd: ["true"] } }))).toBe("");
  });

  it("names the field at fault", () => {
    expect(checkCall(call(undefined))).toBe("open: missing");
    expect(checkCall({ ...call({ op: ContainerOp.TOP }), callId: "" })).toBe("call_id: empty");
    expect(checkCall(call({ op: ContainerOp.UNKNOWN }))).toMatch(/^open\.op: unknown operation/);
    expect(checkCall(call({ op: 42 as ContainerOp }))).toMatch(/^open\.op: unknown operation 42/);
    expect(checkCall(call({ op: ContainerOp.EXEC }))).toBe("open.exec: missing for an exec");
    expect(checkCall(call({ op: ContainerOp.EXEC, exec: { cmd: [] } }))).toBe("open.exec.cmd: empty");
  });
});

describe("isContainerId", () => {
  it("takes Docker's hex ids and prefixes of 12 or more, nothing else", () => {
    expect(isContainerId("0123456789ab")).toBe(true);
    expect(isContainerId("a".repeat(64))).toBe(true);
    for (const bad of ["", "0123456789a", "a".repeat(65), "../../info", "web.1", "0123456789AB"]) {
      expect(isContainerId(bad)).toBe(false);
    }
  });
});

describe("OutputDemux", () => {
  const frame = (stream: number, text: string): Buffer => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };

  it("splits stdout and stderr frames, across chunk boundaries", () => {
    const demux = new OutputDemux();
    const all = Buffer.concat([frame(1, "out\n"), frame(2, "err\n"), frame(1, "more")]);
    const got = [demux.push(all.subarray(0, 5)), demux.push(all.subarray(5, 15)), demux.push(all.subarray(15))].flat();
    expect(got.map((c) => [c.stream, Buffer.from(c.data).toString()])).toEqual([
      [ContainerOutputStream.STDOUT, "out\n"],
      [ContainerOutputStream.STDERR, "err\n"],
      [ContainerOutputStream.STDOUT, "more"],
    ]);
  });
});
