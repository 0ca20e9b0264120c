// /swarm over HTTP, against the Control API's own cluster handlers on a store: what `docker swarm
// join-token/update/unlock-key` and docker-py's client.swarm send, and the answers of a manager
// already in a swarm.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Cluster } from "@shoal/shared";
import { MemoryStore } from "../../src/state/store/index.js";
import { SWARM_EXISTS } from "../../src/dockerapi/swarm.js";
import { CLUSTER_ID, clusterStore, request, serveRoutes, storeControl, type StoreControl } from "./store-control.js";

let store: MemoryStore;
let control: StoreControl;
let server: { base: string; close(): Promise<void> };

beforeEach(async () => {
  store = await clusterStore();
  control = storeControl(store);
  server = await serveRoutes(control);
});
afterEach(() => server.close());

const stored = (): Cluster => store.view((tx) => tx.clusters.get(CLUSTER_ID)!);

interface Swarm {
  ID: string;
  Version: { Index: number };
  Spec: Record<string, unknown> & { EncryptionConfig: { AutoLockManagers: boolean }; Labels: Record<string, string> };
  JoinTokens: { Worker: string; Manager: string };
}

async function inspect(): Promise<Swarm> {
  const res = await request(server.base, "GET", "/v1.41/swarm");
  expect(res.status).toBe(200);
  return res.json as Swarm;
}

/** As the docker CLI updates: GET /swarm, change the spec, POST it back with the version read. */
async function update(query: string, change: (spec: Swarm["Spec"]) => void = () => {}) {
  const swarm = await inspect();
  change(swarm.Spec);
  return request(server.base, "POST", `/v1.41/swarm/update?version=${swarm.Version.Index}${query}`, swarm.Spec);
}

describe("GET /swarm", () => {
  it("shows the cluster with its join tokens", async () => {
    const swarm = await inspect();
    expect(swarm.ID).toBe(CLUSTER_ID);
    expect(swarm.Version.Index).toBe(stored().meta!.version!.index);
    expect(swarm.JoinTokens).toEqual({
      Worker: stored().rootJoinTokens!.worker,
      Manager: stored().rootJoinTokens!.manager,
    });
    expect(swarm.JoinTokens.Worker).toMatch(/^SWMTKN-1-/);
  });

  it("is a 503 while the cluster object does not exist yet", async () => {
    const empty = await serveRoutes(storeControl(new MemoryStore()));
    try {
      expect((await request(empty.base, "GET", "/swarm")).status).toBe(503);
    } finally {
      await empty.close();
    }
  });
});

describe("POST /swarm/update", () => {
  it("rotates the join token asked for (docker swarm join-token --rotate), answering 200 with no body", async () => {
    const before = stored().rootJoinTokens!;
    const res = await update("&rotateWorkerToken=true&rotateManagerToken=false");
    expect(res).toMatchObject({ status: 200, json: undefined });
    expect(stored().rootJoinTokens!.worker).not.toBe(before.worker);
    expect(stored().rootJoinTokens!.manager).toBe(before.manager);
    // docker-py spells booleans the Python way.
    expect((await update("&rotateWorkerToken=False&rotateManagerToken=True")).status).toBe(200);
    expect(stored().rootJoinTokens!.manager).not.toBe(before.manager);
  });

  it("reads a null body as Go does: a spec of defaults", async () => {
    expect((await update("", (s) => (s.Labels = { a: "1" }))).status).toBe(200);
    const { Version } = await inspect();
    expect((await request(server.base, "POST", `/swarm/update?version=${Version.Index}`, null)).status).toBe(200);
    expect(stored().spec!.annotations).toEqual({ name: "default", labels: {} });
  });

  it("refuses a stale version with a 409 and changes nothing", async () => {
    const swarm = await inspect();
    expect((await update("", (s) => (s.Labels = { a: "1" }))).status).toBe(200);
    const res = await request(server.base, "POST", `/swarm/update?version=${swarm.Version.Index}`, {
      ...swarm.Spec,
      Labels: { a: "2" },
    });
    expect(res.status).toBe(409);
    expect(stored().spec!.annotations!.labels).toEqual({ a: "1" });
  });

  it("refuses a missing version or a malformed flag with a 400, as Docker words it", async () => {
    expect(await request(server.base, "POST", "/swarm/update", {})).toMatchObject({
      status: 400,
      json: { message: expect.stringContaining("invalid swarm version ''") as unknown },
    });
    expect(await request(server.base, "POST", "/swarm/update?version=1", [])).toMatchObject({
      status: 400,
      json: { message: "body: expected an object, got an array" },
    });
    expect(await update("&rotateWorkerToken=maybe")).toMatchObject({
      status: 400,
      json: { message: "rotateWorkerToken: invalid value for rotateWorkerToken: maybe" },
    });
  });

  it("refuses a spec Shoal cannot honour with a 400 naming the field, before calling UpdateCluster", async () => {
    control.calls.length = 0;
    const res = await update("", (s) => (s["Raft"] = { ...(s["Raft"] as object), ElectionTick: 5 }));
    expect(res).toMatchObject({
      status: 400,
      json: { message: expect.stringMatching(/^Raft\.ElectionTick: cannot be changed to 5/) as unknown },
    });
    expect(control.calls.map((c) => c.method)).not.toContain("updateCluster");
  });

  it("takes dockerode's body, which carries the query parameters too, as Docker does", async () => {
    const res = await update("", (s) => {
      s["version"] = 1;
      s["rotateWorkerToken"] = false;
    });
    expect(res.status).toBe(200);
  });

  it("stores the snapshot interval and heartbeat period the managers follow, and shows them", async () => {
    const res = await update("", (s) => {
      s["Raft"] = { ...(s["Raft"] as object), SnapshotInterval: 5000 };
      s["Dispatcher"] = { HeartbeatPeriod: 5e9 };
    });
    expect(res.status).toBe(200);
    expect(stored().spec!.raft!.snapshotInterval).toBe(5000);
    expect(stored().spec!.dispatcher!.heartbeatPeriod).toEqual({ seconds: 5, nanos: 0 });
    const spec = (await inspect()).Spec as unknown as {
      Raft: { SnapshotInterval: number };
      Dispatcher: { HeartbeatPeriod: number };
    };
    expect(spec.Raft.SnapshotInterval).toBe(5000);
    expect(spec.Dispatcher.HeartbeatPeriod).toBe(5e9);
    // Sent back as shown: kept.
    expect((await update("")).status).toBe(200);
    expect(stored().spec!.raft!.snapshotInterval).toBe(5000);
  });

  it("keeps the labels that hold stack networks when the client sends the labels it sees", async () => {
    const net = "com.shoal.network/s_default";
    await store.update((tx) => {
      const c = tx.clusters.get(CLUSTER_ID)!;
      tx.clusters.update({ ...c, spec: { ...c.spec!, annotations: { name: "default", labels: { [net]: "{}" } } } });
    });
    expect((await inspect()).Spec.Labels).toEqual({});
    expect((await update("", (s) => (s.Labels = { team: "x" }))).status).toBe(200);
    expect(stored().spec!.annotations!.labels).toEqual({ team: "x", [net]: "{}" });
  });

  it("turns autolock on and off; the unlock key is rotated on request while it stays on", async () => {
    expect(await request(server.base, "GET", "/swarm/unlockkey")).toMatchObject({
      status: 200,
      json: { UnlockKey: "" },
    });
    expect((await update("", (s) => (s.EncryptionConfig = { AutoLockManagers: true }))).status).toBe(200);
    const first = (await request(server.base, "GET", "/v1.41/swarm/unlockkey")).json as { UnlockKey: string };
    expect(first.UnlockKey).toMatch(/^SWMKEY-1-/);
    expect((await inspect()).Spec.EncryptionConfig.AutoLockManagers).toBe(true);

    expect((await update("&rotateManagerUnlockKey=1")).status).toBe(200);
    const second = (await request(server.base, "GET", "/swarm/unlockkey")).json as { UnlockKey: string };
    expect(second.UnlockKey).toMatch(/^SWMKEY-1-/);
    expect(second.UnlockKey).not.toBe(first.UnlockKey);

    expect((await update("", (s) => (s.EncryptionConfig = { AutoLockManagers: false }))).status).toBe(200);
    expect((await request(server.base, "GET", "/swarm/unlockkey")).json).toEqual({ UnlockKey: "" });
    // Nothing to rotate with autolock off: accepted, as SwarmKit does.
    expect((await update("&rotateManagerUnlockKey=true")).status).toBe(200);
    expect(control.calls.filter((c) => c.method === "rotateUnlockKey")).toHaveLength(1);
  });

  it("starts a root CA rotation for ForceRotate (docker swarm ca --rotate)", async () => {
    const res = await update("", (s) => (s["CAConfig"] = { ...(s["CAConfig"] as object), ForceRotate: 1 }));
    expect(res.status).toBe(200);
    expect(stored().rootCa!.rootRotation?.caCert.length).toBeGreaterThan(0);
    expect((await inspect()) as unknown).toMatchObject({ RootRotationInProgress: true });
  });
});

describe("init, join, leave, unlock on a manager of a Shoal cluster", () => {
  it("answers init and join as a node already in a swarm: 503 with Docker's message", async () => {
    for (const path of ["/v1.41/swarm/init", "/v1.41/swarm/join"]) {
      expect(await request(server.base, "POST", path, { ListenAddr: "0.0.0.0:2377" })).toEqual({
        status: 503,
        json: { message: SWARM_EXISTS },
        contentType: "application/json",
      });
    }
    const forced = await request(server.base, "POST", "/swarm/init", { ForceNewCluster: true });
    expect(forced).toMatchObject({
      status: 503,
      json: { message: expect.stringContaining("shoal manager --force-new-cluster") as unknown },
    });
  });

  it("refuses leave with the way a Shoal manager leaves, and unlock as Docker does when not locked", async () => {
    const how = "shoal cluster remove-manager m4nager00000000000000000001";
    expect(await request(server.base, "POST", "/swarm/leave")).toMatchObject({
      status: 503,
      json: { message: expect.stringContaining(how) as unknown },
    });
    // Not 503 when forced: docker-py reads a 503 to a forced leave as a success.
    for (const force of ["1", "True"]) {
      expect(await request(server.base, "POST", `/swarm/leave?force=${force}`)).toMatchObject({
        status: 403,
        json: { message: expect.stringContaining(how) as unknown },
      });
    }
    expect(await request(server.base, "POST", "/swarm/unlock", { UnlockKey: "SWMKEY-1-x" })).toMatchObject({
      status: 409,
      json: { message: "swarm is not locked" },
    });
  });
});
