// Checks of Docker Engine API response shapes (API 1.41, as a Docker 20.10 swarm manager answers:
// the recordings of shared/data and Docker's API types), for the SDK suites: object IDs of 25
// characters [0-9a-z], RFC 3339 UTC times, integer nanoseconds, fields Docker omits when empty
// absent. Fields Docker has and Shoal does not model (NetworksAttachments, VirtualIPs, Isolation,
// Runtime) are not looked at. Also Docker's multiplexed log stream, split into frames.
import { arch } from "node:os";
import { expect } from "vitest";

export const ID = /^[0-9a-z]{25}$/;
export const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
export const JOIN_TOKEN = /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/;
export const PEM = "-----BEGIN CERTIFICATE-----";
const TASK_STATES = [
  "new",
  "pending",
  "assigned",
  "accepted",
  "preparing",
  "starting",
  "running",
  "complete",
  "shutdown",
  "failed",
  "rejected",
  "remove",
  "orphaned",
  "ready",
];
/** `uname -m` of this machine, as Docker reports a node's architecture. */
export const UNAME_MACHINE: string = ({ x64: "x86_64", arm64: "aarch64", arm: "armv7l", ia32: "i686" } as const)[
  arch() as "x64"
];

type Json = Record<string, unknown>;

const int = (v: unknown): boolean => Number.isSafeInteger(v);

/** ID, Version.Index, CreatedAt and UpdatedAt, as every swarm object has them. */
export function expectMeta(o: Json): void {
  expect(o["ID"]).toMatch(ID);
  expect(Object.keys(o["Version"] as Json)).toEqual(["Index"]);
  expect((o["Version"] as Json)["Index"]).toBeGreaterThan(0);
  expect(o["CreatedAt"]).toMatch(TIME);
  expect(o["UpdatedAt"]).toMatch(TIME);
  expect(Date.parse(o["UpdatedAt"] as string)).toBeGreaterThanOrEqual(Date.parse(o["CreatedAt"] as string));
}

/** A worker node of GET /nodes (Shoal's managers are not nodes). */
export function expectNode(n: Json): void {
  expectMeta(n);
  const spec = n["Spec"] as Json;
  expect(["Name", "Labels", "Role", "Availability"]).toEqual(expect.arrayContaining(Object.keys(spec)));
  expect(spec["Labels"]).toBeTypeOf("object");
  expect(spec["Role"]).toBe("worker");
  expect(["active", "pause", "drain"]).toContain(spec["Availability"]);
  const d = n["Description"] as Json;
  expect(d["Hostname"]).toMatch(/^\S+$/);
  expect(d["Platform"]).toEqual({ Architecture: UNAME_MACHINE, OS: "linux" });
  const resources = d["Resources"] as Json;
  expect(int(resources["NanoCPUs"]) && (resources["NanoCPUs"] as number) > 0).toBe(true);
  expect(int(resources["MemoryBytes"]) && (resources["MemoryBytes"] as number) > 0).toBe(true);
  const engine = d["Engine"] as Json;
  expect(engine["EngineVersion"]).toMatch(/^\S+$/);
  const plugins = engine["Plugins"] as Json[];
  expect(plugins.length).toBeGreaterThan(0);
  for (const p of plugins) expect(p).toEqual({ Type: expect.any(String), Name: expect.any(String) });
  expect(plugins).toContainEqual({ Type: "Volume", Name: "local" });
  const tls = d["TLSInfo"] as Json;
  expect(tls["TrustRoot"]).toMatch(new RegExp(`^${PEM}`));
  expect(tls["CertIssuerSubject"]).toMatch(/^\S+$/);
  expect(tls["CertIssuerPublicKey"]).toMatch(/^\S+$/);
  expect(["unknown", "down", "ready", "disconnected"]).toContain((n["Status"] as Json)["State"]);
  expect((n["Status"] as Json)["Addr"]).toBeTypeOf("string");
  expect(n).not.toHaveProperty("ManagerStatus");
}

/** A task of GET /tasks or GET /tasks/{id}. */
export function expectTask(t: Json, serviceId: string): void {
  expectMeta(t);
  expect(t["Labels"]).toEqual({});
  expect(((t["Spec"] as Json)["ContainerSpec"] as Json)["Image"]).toBeTypeOf("string");
  expect(t["ServiceID"]).toBe(serviceId);
  expect(TASK_STATES).toContain(t["DesiredState"]);
  const status = t["Status"] as Json;
  expect(status["Timestamp"]).toMatch(TIME);
  expect(TASK_STATES).toContain(status["State"]);
  expect(status["Message"]).toBeTypeOf("string");
  expect(status["PortStatus"]).toBeTypeOf("object");
  if (status["State"] === "running") {
    expect(t["NodeID"]).toMatch(ID);
    const c = status["ContainerStatus"] as Json;
    expect(c["ContainerID"]).toMatch(/^[0-9a-f]{64}$/);
    expect(int(c["PID"]) && (c["PID"] as number) > 0).toBe(true);
    expect(int(c["ExitCode"])).toBe(true);
  }
  if ("Slot" in t) expect(int(t["Slot"]) && (t["Slot"] as number) > 0).toBe(true);
}

/** A service of GET /services or GET /services/{id}. */
export function expectService(s: Json): void {
  expectMeta(s);
  const spec = s["Spec"] as Json;
  expect(spec["Name"]).toMatch(/^\S+$/);
  expect(spec["Labels"]).toBeTypeOf("object");
  const template = spec["TaskTemplate"] as Json;
  expect((template["ContainerSpec"] as Json)["Image"]).toBeTypeOf("string");
  expect(int(template["ForceUpdate"])).toBe(true);
  const mode = spec["Mode"] as Json;
  expect(Object.keys(mode).length === 1 && ("Global" in mode || "Replicated" in mode)).toBe(true);
  expect((s["Endpoint"] as Json)["Spec"]).toBeTypeOf("object");
}

export interface LogFrame {
  /** 1 stdout, 2 stderr. */
  readonly stream: number;
  readonly text: string;
}

/** Splits Docker's multiplexed stream (8-byte headers: stream, 0, 0, 0, big-endian length). */
export function logFrames(data: Buffer): LogFrame[] {
  const frames: LogFrame[] = [];
  let at = 0;
  while (at + 8 <= data.length) {
    const length = data.readUInt32BE(at + 4);
    frames.push({ stream: data[at]!, text: data.subarray(at + 8, at + 8 + length).toString("utf8") });
    at += 8 + length;
  }
  expect(at).toBe(data.length);
  return frames;
}
