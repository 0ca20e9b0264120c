// The first message of a container call: well formed, and the caller it is made for.
import { ContainerOp, ErrorCode, type ContainerCallOpen, type pki } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { acceptOpen } from "../../src/containers/call-open.js";

const identity = (role: pki.CertRole, nodeId: string): pki.CertIdentity => ({
  nodeId,
  role,
  clusterId: "c",
  serialNumber: "01",
  notBefore: new Date(0),
  notAfter: new Date(0),
  issuerKeyId: undefined,
});

const open = (op: ContainerOp, caller = "", cmd = ["id"]): { input: { $case: "open"; value: ContainerCallOpen } } => ({
  input: {
    $case: "open",
    value: {
      container: "web.1",
      op,
      exec: {
        cmd,
        env: [],
        user: "",
        workingDir: "",
        tty: false,
        attachStdin: false,
        attachStdout: true,
        attachStderr: true,
        privileged: false,
        detachKeys: "",
      },
      attach: undefined,
      top: undefined,
      stats: undefined,
      size: undefined,
      caller,
    },
  },
});

describe("acceptOpen", () => {
  it("names the client certificate as the caller, whatever the client said", () => {
    expect(acceptOpen(open(ContainerOp.EXEC, "root"), identity("client", "admin")).caller).toBe("admin");
  });

  it("takes the caller a manager names, and refuses exec and attach when it names none", () => {
    const manager = identity("manager", "m1");
    expect(acceptOpen(open(ContainerOp.ATTACH, "alice"), manager).caller).toBe("alice");
    for (const op of [ContainerOp.EXEC, ContainerOp.ATTACH]) {
      expect(() => acceptOpen(open(op), manager)).toThrow(
        expect.objectContaining({
          code: ErrorCode.PermissionDenied,
          message: "exec and attach need an admin client certificate",
        }),
      );
    }
    expect(acceptOpen(open(ContainerOp.STATS), manager).caller).toBe("");
  });

  it("never believes a caller from a worker or an unknown peer", () => {
    expect(() => acceptOpen(open(ContainerOp.EXEC, "admin"), identity("worker", "n1"))).toThrow(
      /admin client certificate/,
    );
    expect(() => acceptOpen(open(ContainerOp.EXEC, "admin"), undefined)).toThrow(/admin client certificate/);
  });

  it("refuses a first message without open, an unknown operation, and an exec without a command", () => {
    const admin = identity("client", "admin");
    expect(() => acceptOpen({ input: { $case: "stdin", value: new Uint8Array() } }, admin)).toThrow(/^input: /);
    expect(() => acceptOpen(open(99 as ContainerOp), admin)).toThrow(/^open\.op: unknown operation 99/);
    expect(() => acceptOpen(open(ContainerOp.UNKNOWN), admin)).toThrow(/^open\.op: /);
    expect(() => acceptOpen(open(-1 as ContainerOp), admin)).toThrow(/^open\.op: /);
    expect(() => acceptOpen(open(ContainerOp.EXEC, "", []), admin)).toThrow(
      /^open\.exec\.cmd: an exec needs a command/,
    );
  });
});
