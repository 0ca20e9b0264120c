import { ErrorCode } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { DaemonUnavailableError, ExecError, isTemporary } from "@shoal/agent";
import { classifyDockerError, dockerMessage } from "../../../src/exec/docker/docker-errors.js";

/** An error shaped as dockerode makes them for an HTTP answer. */
function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    json: { message },
  });
}

function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: "connect" });
}

describe("classifyDockerError", () => {
  it("treats an unreachable daemon as temporary", () => {
    for (const code of ["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "ETIMEDOUT"]) {
      const err = classifyDockerError(systemError(code, `connect ${code} /var/run/docker.sock`), "starting x");
      expect(err).toBeInstanceOf(DaemonUnavailableError);
      expect(err.temporary).toBe(true);
      expect(err.code).toBe(ErrorCode.Unavailable);
      expect(err.message).toMatch(/^starting x: docker daemon unreachable: connect/);
      expect(isTemporary(err)).toBe(true);
    }
  });

  it("treats a timed-out request as temporary", () => {
    expect(classifyDockerError(new Error("socket hang up"), "x").temporary).toBe(true);
  });

  it("treats an abort as temporary", () => {
    const abort = Object.assign(new Error("The operation was aborted"), { name: "AbortError", code: "ABORT_ERR" });
    const err = classifyDockerError(abort, "x");
    expect(err.temporary).toBe(true);
    expect(err.code).toBe(ErrorCode.Cancelled);
  });

  it("keeps Docker's message and makes the daemon's refusals fatal", () => {
    const cases: [number, ErrorCode][] = [
      [400, ErrorCode.InvalidArgument],
      [404, ErrorCode.NotFound],
      [409, ErrorCode.FailedPrecondition],
      [500, ErrorCode.Internal],
    ];
    for (const [status, code] of cases) {
      const err = classifyDockerError(httpError(status, "No such image: nope:1"), "creating container web.1.t");
      expect(err.temporary).toBe(false);
      expect(err.code).toBe(code);
      expect(err.message).toBe("creating container web.1.t: No such image: nope:1");
      expect(err.details).toEqual({ statusCode: status });
    }
  });

  it("treats 503 as temporary", () => {
    expect(classifyDockerError(httpError(503, "daemon is shutting down"), "x").temporary).toBe(true);
  });

  it("passes ExecErrors through and makes unknown errors fatal", () => {
    const exec = new DaemonUnavailableError("down");
    expect(classifyDockerError(exec, "x")).toBe(exec);
    const unknown = classifyDockerError(new Error("something odd"), "x");
    expect(unknown).toBeInstanceOf(ExecError);
    expect(unknown.temporary).toBe(false);
    expect(isTemporary(new Error("plain"))).toBe(false);
  });
});

describe("dockerMessage", () => {
  it("prefers the daemon's JSON message and strips dockerode's prefix otherwise", () => {
    expect(dockerMessage(httpError(404, "No such container: x"))).toBe("No such container: x");
    const noJson = Object.assign(new Error("(HTTP code 500) server error - boom "), {
      statusCode: 500,
      json: Buffer.from("x"),
    });
    expect(dockerMessage(noJson)).toBe("boom");
    expect(dockerMessage("text")).toBe("text");
  });
});
