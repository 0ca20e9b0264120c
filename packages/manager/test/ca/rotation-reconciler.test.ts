// The root rotation: its pure steps (progress, when it may finish, what the finish writes) and
// the leader component over a real store and a manual clock (finishes only when every node and
// manager renewed, a removed node does not block, tokens made again, a new leader carries on).
import { Cluster, ManualClock, Node, NodeRole, pki, silentLogger, type RootCA } from "@shoal/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { currentDigest, newRootCa, trustedRootsPem } from "../../src/ca/root-ca.js";
import {
  finishedRootCa,
  isRotating,
  needsRenewal,
  planRotation,
  recordManagerRenewal,
  rotationProgress,
  signingDigest,
  startRotation,
} from "../../src/ca/root-rotation.js";
import { RootRotationReconciler } from "../../src/ca/rotation-reconciler.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { settle, until } from "../orchestrator/helpers.js";
import { CLUSTER_ID } from "./fixtures.js";

const NOW = Date.parse("2026-03-01T12:00:00Z");

let base: RootCA;
let rotating: RootCA;
let oldDigest: string;
let newDigest: string;

beforeAll(async () => {
  base = (await newRootCa({ clusterId: CLUSTER_ID, now: NOW })).rootCa;
  rotating = await startRotation(base, CLUSTER_ID, NOW);
  oldDigest = currentDigest(base);
  newDigest = signingDigest(rotating);
});

function node(id: string, issuerDigest: string | undefined, role = NodeRole.WORKER): Node {
  return Node.fromPartial({
    id,
    role,
    spec: { desiredRole: role },
    ...(issuerDigest !== undefined ? { certificate: { serialNumber: `s-${id}`, issuerDigest } } : {}),
  });
}

function cluster(rootCa: RootCA): Cluster {
  return Cluster.fromPartial({
    id: CLUSTER_ID,
    spec: { annotations: { name: "default" } },
    rootCa,
    rootJoinTokens: {
      worker: pki.newJoinToken(currentDigest(rootCa)),
      manager: pki.newJoinToken(currentDigest(rootCa)),
    },
  });
}

describe("root rotation steps", () => {
  it("start: a new root cross-signed by the old; tokens still pin the old; the CA signs with the new; both trusted", async () => {
    expect(isRotating(base)).toBe(false);
    expect(isRotating(rotating)).toBe(true);
    expect(currentDigest(rotating)).toBe(oldDigest);
    expect(newDigest).not.toBe(oldDigest);
    expect(trustedRootsPem(rotating).match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const rotation = rotating.rootRotation!;
    const cross = new pki.x509.X509Certificate(Buffer.from(rotation.crossSignedCaCert).toString());
    const fresh = new pki.x509.X509Certificate(Buffer.from(rotation.caCert).toString());
    const old = new pki.x509.X509Certificate(Buffer.from(base.caCert).toString());
    expect(cross.subject).toBe(fresh.subject);
    expect(cross.issuer).toBe(old.subject);
    expect(Buffer.from(rotating.caKey).toString()).toBe(Buffer.from(base.caKey).toString());
  });

  it("starting again replaces the rotation with another new root", async () => {
    const again = await startRotation(rotating, CLUSTER_ID, NOW);
    expect(signingDigest(again)).not.toBe(newDigest);
    expect(currentDigest(again)).toBe(oldDigest);
  });

  it("progress counts nodes and managers; a node renewed with the new key is done, others pending", () => {
    // w1: a manager's node with no agent beside it, renewed: done by its node's record.
    const nodes = [node("w1", newDigest, NodeRole.MANAGER), node("w2", oldDigest), node("w3", undefined)];
    const p = rotationProgress(rotating, nodes, ["m1", "w1"])!;
    expect(p).toEqual({ oldDigest, newDigest, total: 4, done: 1, pending: ["m1", "w2", "w3"] });
    expect(rotationProgress(base, nodes, ["m1"])).toBeUndefined();
  });

  it("a manager that is not a node counts as renewed once recorded in the rotation, once", () => {
    let rootCa = recordManagerRenewal(rotating, "m1", oldDigest);
    expect(rootCa).toBe(rotating);
    rootCa = recordManagerRenewal(rotating, "m1", newDigest);
    expect(rootCa.rootRotation!.renewedManagers).toEqual(["m1"]);
    expect(recordManagerRenewal(rootCa, "m1", newDigest)).toBe(rootCa);
    expect(recordManagerRenewal(base, "m1", newDigest)).toBe(base);
    expect(rotationProgress(rootCa, [], ["m1"])!.pending).toEqual([]);
  });

  it("a manager with an agent beside it is done once both its certificates are from the new key", () => {
    const withAgent = (issuerDigest: string): Node =>
      Node.fromPartial({
        ...node("m1", issuerDigest, NodeRole.MANAGER),
        description: { hostname: "h1", engine: { engineVersion: "27" } },
      });
    const managerRenewed = recordManagerRenewal(rotating, "m1", newDigest);
    expect(rotationProgress(managerRenewed, [withAgent(oldDigest)], ["m1"])!.pending).toEqual(["m1"]);
    expect(rotationProgress(rotating, [withAgent(newDigest)], ["m1"])!.pending).toEqual(["m1"]);
    expect(rotationProgress(managerRenewed, [withAgent(newDigest)], ["m1"])!.pending).toEqual([]);
  });

  it("nodes are told to renew until their certificate is from the new key; never without a rotation", () => {
    expect(needsRenewal(rotating, node("w", oldDigest))).toBe(true);
    expect(needsRenewal(rotating, node("w", undefined))).toBe(true);
    expect(needsRenewal(rotating, node("w", newDigest))).toBe(false);
    expect(needsRenewal(base, node("w", oldDigest))).toBe(false);
    expect(needsRenewal(undefined, node("w", oldDigest))).toBe(false);
  });

  it("waits while any node or manager holds an old certificate, and with no manager known", () => {
    const m = recordManagerRenewal(rotating, "m1", newDigest);
    expect(planRotation(cluster(m), [node("w1", oldDigest)], ["m1"]).kind).toBe("waiting");
    expect(planRotation(cluster(rotating), [node("w1", newDigest)], ["m1"]).kind).toBe("waiting");
    expect(planRotation(cluster(m), [node("w1", newDigest)], []).kind).toBe("waiting");
    expect(planRotation(cluster(base), [node("w1", oldDigest)], ["m1"]).kind).toBe("idle");
    expect(planRotation(undefined, [], ["m1"]).kind).toBe("idle");
  });

  it("finishes when all renewed: the new root alone, its digest in both new tokens, revocations kept", () => {
    const m = {
      ...recordManagerRenewal(rotating, "m1", newDigest),
      revoked: [{ serialNumber: "ab", name: "x", notAfter: undefined }],
    };
    const step = planRotation(cluster(m), [node("w1", newDigest)], ["m1"]);
    expect(step.kind).toBe("finish");
    if (step.kind !== "finish") return;
    expect(currentDigest(step.rootCa)).toBe(newDigest);
    expect(isRotating(step.rootCa)).toBe(false);
    expect(Buffer.from(step.rootCa.caKey).toString()).toBe(Buffer.from(rotating.rootRotation!.caKey).toString());
    expect(step.rootCa.revoked).toHaveLength(1);
    expect(trustedRootsPem(step.rootCa).match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    expect(pki.parseJoinToken(step.tokens.worker).caDigest).toBe(newDigest);
    expect(pki.parseJoinToken(step.tokens.manager).caDigest).toBe(newDigest);
    expect(step.tokens.worker).not.toBe(step.tokens.manager);
    expect(finishedRootCa(base)).toBe(base);
  });
});

describe("RootRotationReconciler", () => {
  interface Harness {
    readonly store: MemoryStore;
    readonly clock: ManualClock;
    managers: string[];
    start(): RootRotationReconciler;
    renew(id: string): Promise<void>;
    rootCa(): RootCA;
    tokens(): { worker: string; manager: string };
  }

  async function harness(): Promise<Harness> {
    const clock = new ManualClock(NOW);
    const store = new MemoryStore({ clock });
    const c = cluster(base);
    await store.update((tx) => {
      tx.clusters.create(c);
      for (const id of ["w1", "w2", "w3"]) tx.nodes.create(node(id, oldDigest));
    });
    const h: Harness = {
      store,
      clock,
      managers: ["m1", "m2"],
      start: () => {
        const r = new RootRotationReconciler({ store, clock, logger: silentLogger(), managers: () => h.managers });
        void r.run();
        return r;
      },
      renew: (id) =>
        store.update((tx) => {
          const n = tx.nodes.get(id);
          if (n) {
            tx.nodes.update({
              ...n,
              certificate: { serialNumber: `new-${id}`, issuerDigest: newDigest, notAfter: undefined },
            });
            return;
          }
          const cl = tx.clusters.find()[0]!;
          tx.clusters.update({ ...cl, rootCa: recordManagerRenewal(cl.rootCa!, id, newDigest) });
        }),
      rootCa: () => store.view((tx) => tx.clusters.find()[0]!.rootCa!),
      tokens: () => {
        const t = store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!);
        return { worker: t.worker, manager: t.manager };
      },
    };
    return h;
  }

  async function rotate(h: Harness): Promise<void> {
    await h.store.update((tx) => {
      const cl = tx.clusters.find()[0]!;
      tx.clusters.update({ ...cl, rootCa: rotating });
    });
  }

  /** Lets the loop's debounce pass and the loop run. */
  async function tick(h: Harness, ms = 600): Promise<void> {
    await settle();
    h.clock.advance(ms);
    await settle();
  }

  it("does nothing without a rotation", async () => {
    const h = await harness();
    const before = h.tokens();
    const r = h.start();
    await tick(h);
    expect(currentDigest(h.rootCa())).toBe(oldDigest);
    expect(isRotating(h.rootCa())).toBe(false);
    expect(h.tokens()).toEqual(before);
    await r.stop();
  });

  it("finishes only once every node and manager renewed; then the new root alone and new tokens", async () => {
    const h = await harness();
    const oldTokens = h.tokens();
    const r = h.start();
    await rotate(h);
    for (const id of ["w1", "w2", "m1", "w3"]) {
      await h.renew(id);
      await tick(h);
      expect(isRotating(h.rootCa())).toBe(true);
      expect(h.tokens()).toEqual(oldTokens);
    }
    await h.renew("m2");
    await tick(h);
    await until(() => !isRotating(h.rootCa()), "the rotation to finish");
    expect(currentDigest(h.rootCa())).toBe(newDigest);
    const tokens = h.tokens();
    expect(pki.parseJoinToken(tokens.worker).caDigest).toBe(newDigest);
    expect(pki.parseJoinToken(tokens.manager).caDigest).toBe(newDigest);
    // The old tokens admit nobody now; the new ones do.
    expect(() => pki.joinTokenRole(oldTokens.worker, tokens, newDigest)).toThrow(pki.JoinTokenError);
    expect(() => pki.joinTokenRole(oldTokens.manager, tokens, newDigest)).toThrow(pki.JoinTokenError);
    expect(pki.joinTokenRole(tokens.worker, tokens, newDigest)).toBe("worker");
    expect(pki.joinTokenRole(tokens.manager, tokens, newDigest)).toBe("manager");
    await r.stop();
    await r.stop(); // idempotent
  });

  it("a node removed meanwhile does not block it", async () => {
    const h = await harness();
    const r = h.start();
    await rotate(h);
    for (const id of ["w1", "w2", "m1", "m2"]) await h.renew(id);
    await tick(h);
    expect(isRotating(h.rootCa())).toBe(true);
    await h.store.update((tx) => tx.nodes.delete("w3"));
    await tick(h);
    await until(() => !isRotating(h.rootCa()), "the rotation to finish");
    await r.stop();
  });

  it("a manager that leaves the Raft group does not block it (seen by polling: members are not in the store)", async () => {
    const h = await harness();
    const r = h.start();
    await rotate(h);
    for (const id of ["w1", "w2", "w3", "m1"]) await h.renew(id);
    await tick(h);
    expect(isRotating(h.rootCa())).toBe(true);
    h.managers = ["m1"];
    await tick(h, 2_100);
    await until(() => !isRotating(h.rootCa()), "the rotation to finish");
    await r.stop();
  });

  it("a new leader carries a rotation on from the store", async () => {
    const h = await harness();
    const first = h.start();
    await rotate(h);
    await h.renew("w1");
    await h.renew("m1");
    await tick(h);
    await first.stop(); // leadership lost
    for (const id of ["w2", "w3", "m2"]) await h.renew(id);
    await tick(h);
    expect(isRotating(h.rootCa())).toBe(true); // nobody leads
    const second = h.start();
    await tick(h);
    await until(() => !isRotating(h.rootCa()), "the new leader to finish the rotation");
    expect(currentDigest(h.rootCa())).toBe(newDigest);
    await second.stop();
  });
});
