import { Cluster, ClusterSpec } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { getCluster, listClusters, redacted, updateCluster } from "../../src/controlapi/clusters.js";
import { ruleFor } from "../../src/auth/policy.js";
import {
  LINK_USED,
  MAX_CREDENTIALS,
  createLogin,
  findSession,
  hashEquals,
  listSessions,
  redeemLogin,
  revokeSessions,
  tokenHash,
} from "../../src/dashboard/credentials.js";
import { MemoryStore } from "../../src/state/store/index.js";

const T0 = 1_800_000_000_000;
const MIN = 60_000;

async function cluster(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.update((tx) => tx.clusters.create(Cluster.fromPartial({ id: "c1", spec: ClusterSpec.fromPartial({}) })));
  return store;
}

const current = (store: MemoryStore): Cluster => store.view((tx) => tx.clusters.get("c1")!);
const login = (store: MemoryStore, now = T0, ttl?: { link?: number; session?: number }) =>
  createLogin(
    store,
    {
      linkTtl: ttl?.link === undefined ? undefined : { seconds: ttl.link / 1000, nanos: 0 },
      sessionTtl: ttl?.session === undefined ? undefined : { seconds: ttl.session / 1000, nanos: 0 },
      createdBy: "ignored",
    },
    { now, createdBy: "alice" },
  );

describe("dashboard credentials", () => {
  it("stores only the SHA-256 of a 32-byte base64url token, for the caller's name, with the expiries", async () => {
    const store = await cluster();
    const res = await login(store);
    expect(res.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.loginExpiresAt).toEqual(new Date(T0 + 5 * MIN));
    const [c] = current(store).dashboardCredentials;
    expect(c).toMatchObject({ id: res.id, createdBy: "alice", sessionTokenHash: new Uint8Array(0) });
    expect(Buffer.from(c!.loginTokenHash)).toEqual(Buffer.from(tokenHash(res.token)));
    expect(JSON.stringify(current(store))).not.toContain(res.token);
  });

  it("a link works once: the redeem clears its hash and opens a session that findSession knows", async () => {
    const store = await cluster();
    const { token, id } = await login(store);
    const s = await redeemLogin(store, token, T0 + MIN);
    expect(s).toMatchObject({ id, createdBy: "alice" });
    expect(s.expiresAt).toEqual(new Date(T0 + MIN + 12 * 60 * MIN));
    const [c] = current(store).dashboardCredentials;
    expect(c!.loginTokenHash.length).toBe(0);
    expect(findSession(current(store), s.sessionToken, T0 + 2 * MIN)?.id).toBe(id);
    // The link token is no session, and it does not work twice.
    expect(findSession(current(store), token, T0 + 2 * MIN)).toBeUndefined();
    await expect(redeemLogin(store, token, T0 + 2 * MIN)).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      message: LINK_USED,
    });
  });

  it("an expired link or session is refused, and the next write prunes it", async () => {
    const store = await cluster();
    const a = await login(store, T0, { link: MIN, session: 10 * MIN });
    await expect(redeemLogin(store, a.token, T0 + MIN + 1)).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    const b = await login(store, T0 + 2 * MIN, { session: 10 * MIN });
    expect(current(store).dashboardCredentials.map((c) => c.id)).toEqual([b.id]);
    const s = await redeemLogin(store, b.token, T0 + 3 * MIN);
    expect(findSession(current(store), s.sessionToken, T0 + 12 * MIN)).toBeDefined();
    expect(findSession(current(store), s.sessionToken, T0 + 13 * MIN)).toBeUndefined();
    expect(listSessions(current(store), T0 + 13 * MIN)).toEqual([]);
  });

  it("refuses bad ttls and an empty token, naming the field, and changes nothing", async () => {
    const store = await cluster();
    await expect(login(store, T0, { link: 0 })).rejects.toMatchObject({ field: "link_ttl" });
    await expect(login(store, T0, { session: 365 * 24 * 60 * MIN })).rejects.toMatchObject({ field: "session_ttl" });
    await expect(redeemLogin(store, "", T0)).rejects.toMatchObject({ field: "token" });
    await expect(redeemLogin(store, "not-a-token", T0)).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    expect(current(store).dashboardCredentials).toEqual([]);
  });

  it("lists without hashes; revokes by id, unique prefix or all; an unknown id is NOT_FOUND", async () => {
    const store = await cluster();
    const a = await login(store);
    const b = await login(store);
    const s = await redeemLogin(store, a.token, T0 + 1);
    const listed = listSessions(current(store), T0 + 2);
    expect(listed.map((l) => [l.id, l.redeemed, l.createdBy])).toEqual([
      [a.id, true, "alice"],
      [b.id, false, "alice"],
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/Hash/);
    await expect(revokeSessions(store, { ids: ["zzzz"], all: false }, T0 + 3)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(revokeSessions(store, { ids: [], all: false }, T0 + 3)).rejects.toMatchObject({ field: "ids" });
    expect(await revokeSessions(store, { ids: [a.id.slice(0, 10)], all: false }, T0 + 3)).toEqual([a.id]);
    expect(findSession(current(store), s.sessionToken, T0 + 4)).toBeUndefined();
    expect(await revokeSessions(store, { ids: [], all: true }, T0 + 5)).toEqual([b.id]);
    expect(current(store).dashboardCredentials).toEqual([]);
  });

  it("bounds how many a cluster holds", async () => {
    const store = await cluster();
    await store.update((tx) => {
      const c = tx.clusters.get("c1")!;
      const many = Array.from({ length: MAX_CREDENTIALS }, (_, i) => ({
        id: `x${i}`,
        loginTokenHash: tokenHash(`t${i}`),
        sessionTokenHash: new Uint8Array(0),
        createdBy: "bob",
        createdAt: new Date(T0),
        loginExpiresAt: new Date(T0 + MIN),
        expiresAt: new Date(T0 + MIN),
        redeemedAt: undefined,
      }));
      tx.clusters.update({ ...c, dashboardCredentials: many });
    });
    await expect(login(store)).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED" });
  });

  it("compares hashes in full: other lengths and the empty hash never match", () => {
    const h = tokenHash("a");
    expect(hashEquals(h, tokenHash("a"))).toBe(true);
    expect(hashEquals(h, tokenHash("b"))).toBe(false);
    expect(hashEquals(h, h.subarray(0, 16))).toBe(false);
    expect(hashEquals(new Uint8Array(0), new Uint8Array(0))).toBe(false);
  });

  it("never leave the store through the Control API, and UpdateCluster keeps them", async () => {
    const store = await cluster();
    const { token } = await login(store);
    expect(redacted(current(store)).dashboardCredentials).toEqual([]);
    expect(getCluster(store, { clusterId: "" }).cluster!.dashboardCredentials).toEqual([]);
    expect(listClusters(store).clusters[0]!.dashboardCredentials).toEqual([]);
    const version = current(store).meta!.version;
    const res = await updateCluster(
      store,
      { clusterId: "c1", clusterVersion: version, spec: current(store).spec } as never,
      T0,
    );
    expect(res.cluster!.dashboardCredentials).toEqual([]);
    expect(current(store).dashboardCredentials).toHaveLength(1);
    await expect(redeemLogin(store, token, T0 + 1)).resolves.toMatchObject({ createdBy: "alice" });
  });

  it("the policy: operators for links and sessions, only managers redeem", () => {
    expect(ruleFor("/shoal.v1.Control/RedeemDashboardLogin")!.allow).toEqual(["manager"]);
    for (const m of ["CreateDashboardLogin", "ListDashboardSessions", "RevokeDashboardSessions"]) {
      expect(ruleFor(`/shoal.v1.Control/${m}`)!.allow).not.toContain("worker");
      expect(ruleFor(`/shoal.v1.Control/${m}`)!.allow).toContain("client");
    }
  });
});
