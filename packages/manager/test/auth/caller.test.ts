// The caller's identity travels with the Metadata object, not in headers a client could send.
import * as grpc from "@grpc/grpc-js";
import type { pki } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import {
  callerOf,
  FORWARDED_FOR,
  forwardedMetadata,
  isForwarded,
  parseForwardedFor,
  setCaller,
} from "../../src/auth/caller.js";

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

describe("forwardedMetadata / parseForwardedFor", () => {
  it("round-trips an identity and an anonymous caller; anything else is invalid", () => {
    const value = (m: grpc.Metadata): string => String(m.get(FORWARDED_FOR)[0]);
    expect(parseForwardedFor(value(forwardedMetadata(identity)))).toEqual(identity);
    expect(parseForwardedFor(value(forwardedMetadata(undefined)))).toBeUndefined();
    expect(parseForwardedFor("{")).toBe("invalid");
    expect(parseForwardedFor(JSON.stringify({ nodeId: "x", role: "root", clusterId: "c" }))).toBe("invalid");
  });
});

describe("isForwarded", () => {
  it("marks every forwarded call, so that a receiver that is not the leader does not forward it again", () => {
    expect(isForwarded(forwardedMetadata(identity))).toBe(true);
    expect(isForwarded(forwardedMetadata(undefined))).toBe(true);
    expect(isForwarded(new grpc.Metadata())).toBe(false);
  });
});
