// The caller's identity travels with the Metadata object, not in headers a client could send.
import * as grpc from "@grpc/grpc-js";
import type { pki } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { callerOf, setCaller } from "../../src/auth/caller.js";

const identity: pki.CertIdentity = {
  nodeId: "w1",
  role: "worker",
  clusterId: "c1",
  serialNumber: "01",
  notBefore: new Date(0),
  notAfter: new Date(0),
  issuerKeyId: undefined,
};

describe("callerOf", () => {
  it("gives what the interceptor set on that metadata object only", () => {
    const metadata = new grpc.Metadata();
    expect(callerOf(metadata)).toBeUndefined();
    setCaller(metadata, identity);
    expect(callerOf(metadata)).toBe(identity);
    expect(callerOf(metadata.clone())).toBeUndefined();
  });

  it("cannot be forged with headers", () => {
    const metadata = new grpc.Metadata();
    for (const key of ["node-id", "shoal-node-id", "shoal-forwarded-for", "x-shoal-caller"]) metadata.set(key, "m1");
    expect(callerOf(metadata)).toBeUndefined();
  });
});
