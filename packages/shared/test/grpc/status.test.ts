// Status messages at the gRPC edge are bounded: a message that quotes a 200 KB request field would
// not fit in the HTTP/2 trailer that carries it, and the caller would wait for its deadline
// instead of hearing the error (found by the fuzz test, test/e2e/fuzz.test.ts).
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/errors.js";
import { MAX_STATUS_MESSAGE_CHARS, fromServiceError, toServiceError } from "../../src/grpc/status.js";

describe("toServiceError", () => {
  it("keeps a short message as it is", () => {
    const e = toServiceError(new NotFoundError("node", "n1"));
    expect(e.code).toBe(status.NOT_FOUND);
    expect(e.details).toBe(new NotFoundError("node", "n1").message);
  });

  it("cuts a long message and says how much was cut", () => {
    const err = new NotFoundError("node", "a".repeat(200_000));
    const e = toServiceError(err);
    expect(e.details!.length).toBeLessThan(MAX_STATUS_MESSAGE_CHARS + 40);
    expect(e.details).toBe(
      `${err.message.slice(0, MAX_STATUS_MESSAGE_CHARS)}... (${err.message.length - MAX_STATUS_MESSAGE_CHARS} more characters)`,
    );
    expect(fromServiceError(e).code).toBe(err.code);
  });
});
