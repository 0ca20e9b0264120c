import { describe, expect, it } from "vitest";
import { ErrorCode, InvalidArgumentError, NotFoundError, ShoalError, errorMessage, isShoalError } from "@shoal/shared";

describe("errors", () => {
  it("carry a stable code, the cause and typed details", () => {
    const cause = new Error("disk full");
    const err = new ShoalError(ErrorCode.Unavailable, "cannot write", { cause, details: { path: "/x" } });
    expect(err.code).toBe("UNAVAILABLE");
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ path: "/x" });
    expect(err.name).toBe("ShoalError");
    expect(isShoalError(err)).toBe(true);
    expect(isShoalError(cause)).toBe(false);
  });

  it("say where invalid input was", () => {
    const err = new InvalidArgumentError("must be a whole number", { field: "spec.mode.replicated.replicas" });
    expect(err.message).toBe("spec.mode.replicated.replicas: must be a whole number");
    expect(err.field).toBe("spec.mode.replicated.replicas");
    expect(err.name).toBe("InvalidArgumentError");
    expect(err).toBeInstanceOf(ShoalError);
  });

  it("name what was not found", () => {
    expect(new NotFoundError("service", "web").message).toBe("service web not found");
  });

  it("turn anything thrown into a message", () => {
    expect(errorMessage(new Error("x"))).toBe("x");
    expect(errorMessage("plain")).toBe("plain");
    expect(errorMessage({ a: 1 })).toBe('{"a":1}');
  });
});
