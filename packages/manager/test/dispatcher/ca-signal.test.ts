// The CA signal of a dispatcher session: the current root's digest, and the renewal flag while a
// rotation runs and the node's certificate is from the old key; the watch reports changes only.
import { Cluster, Node, NodeRole, NodeState, type RootCA } from "@shoal/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { currentDigest, newRootCa } from "../../src/ca/root-ca.js";
import { recordIssued } from "../../src/ca/issued-record.js";
import { finishedRootCa, recordManagerRenewal, signingDigest, startRotation } from "../../src/ca/root-rotation.js";
import { caSignal, watchCaSignal, type CaSignal } from "../../src/dispatcher/ca-signal.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { settle } from "../orchestrator/helpers.js";

const CLUSTER_ID = "c1u5ter0000000000000000001";
const NOW = Date.parse("2026-03-01T12:00:00Z");
let base: RootCA;
let rotating: RootCA;

beforeAll(async () => {
  base = (await newRootCa({ clusterId: CLUSTER_ID, now: NOW })).rootCa;
  rotating = await startRotation(base, CLUSTER_ID, NOW);
});

const node = (issuerDigest?: string): Node =>
  Node.fromPartial({ id: "n1", ...(issuerDigest ? { certificate: { serialNumber: "1", issuerDigest } } : {}) });

describe("the session's CA signal", () => {
  it("the current root; renew only during a rotation, until the node holds a certificate from the new key", () => {
    expect(caSignal(undefined, node())).toEqual({ rootCaDigest: "", renewCertificate: false });
    expect(caSignal(base, node(currentDigest(base)))).toEqual({
      rootCaDigest: currentDigest(base),
      renewCertificate: false,
    });
    expect(caSignal(rotating, node(currentDigest(base)))).toEqual({
      rootCaDigest: currentDigest(base),
      renewCertificate: true,
    });
    expect(caSignal(rotating, node(signingDigest(rotating))).renewCertificate).toBe(false);
    // A manager that is not a node: renewed once the rotation records it.
    expect(caSignal(rotating, undefined, "m1").renewCertificate).toBe(true);
    expect(
      caSignal(recordManagerRenewal(rotating, "m1", signingDigest(rotating)), undefined, "m1").renewCertificate,
    ).toBe(false);
    expect(caSignal(base, undefined, "m1").renewCertificate).toBe(false);
    expect(caSignal(finishedRootCa(rotating), node(signingDigest(rotating)))).toEqual({
      rootCaDigest: signingDigest(rotating),
      renewCertificate: false,
    });
  });

  it("the watch reports each change once: rotation started, node renewed, rotation finished", async () => {
    const store = new MemoryStore();
    await store.update((tx) => {
      tx.clusters.create(Cluster.fromPartial({ id: CLUSTER_ID, rootCa: base }));
      tx.nodes.create(node(currentDigest(base)));
      tx.nodes.create(Node.fromPartial({ id: "other" }));
    });
    const seen: CaSignal[] = [];
    const stop = watchCaSignal(store, "n1", caSignal(base, node(currentDigest(base))), (s) => seen.push(s));
    const setRootCa = (rootCa: RootCA): Promise<void> =>
      store.update((tx) => tx.clusters.update({ ...tx.clusters.find()[0]!, rootCa }));
    await setRootCa(rotating);
    await store.update((tx) =>
      tx.nodes.update({ ...tx.nodes.get("other")!, status: { state: NodeState.DOWN, message: "x", addr: "" } }),
    );
    await store.update((tx) =>
      recordIssued(tx, {
        nodeId: "n1",
        serialNumber: "AB",
        issuerDigest: signingDigest(rotating),
        notAfter: new Date(NOW),
      }),
    );
    await setRootCa(finishedRootCa(rotating));
    await settle();
    expect(seen).toEqual([
      { rootCaDigest: currentDigest(base), renewCertificate: true },
      { rootCaDigest: currentDigest(base), renewCertificate: false },
      { rootCaDigest: signingDigest(rotating), renewCertificate: false },
    ]);
    stop();
    stop();
  });
});

describe("the session's node on a role change", () => {
  it("the watch reports the node again when its desired role changes, and not for other updates", async () => {
    const store = new MemoryStore();
    await store.update((tx) => {
      tx.clusters.create(Cluster.fromPartial({ id: CLUSTER_ID, rootCa: base }));
      tx.nodes.create(Node.fromPartial({ ...node(currentDigest(base)), spec: { desiredRole: NodeRole.WORKER } }));
    });
    const seen: (NodeRole | undefined)[] = [];
    const initial = caSignal(base, node(currentDigest(base)));
    const stop = watchCaSignal(store, "n1", initial, (_s, n) => seen.push(n?.spec?.desiredRole));
    const update = (change: Partial<Node>): Promise<void> =>
      store.update((tx) => tx.nodes.update({ ...tx.nodes.get("n1")!, ...change }));
    await update({ status: { state: NodeState.READY, message: "", addr: "" } });
    await update({ spec: { desiredRole: NodeRole.MANAGER, availability: 0, annotations: undefined } });
    await settle();
    expect(seen).toEqual([NodeRole.MANAGER]);
    stop();
  });
});

describe("recordIssued", () => {
  it("writes Node.certificate for a node, and a manager that is not a node into the rotation, once", async () => {
    const store = new MemoryStore();
    await store.update((tx) => {
      tx.clusters.create(Cluster.fromPartial({ id: CLUSTER_ID, rootCa: rotating }));
      tx.nodes.create(node());
    });
    const issuerDigest = signingDigest(rotating);
    const notAfter = new Date(NOW + 1000);
    await store.update((tx) => recordIssued(tx, { nodeId: "n1", serialNumber: "AB01", issuerDigest, notAfter }));
    await store.update((tx) => recordIssued(tx, { nodeId: "m1", serialNumber: "CD", issuerDigest, notAfter }));
    await store.update((tx) => recordIssued(tx, { nodeId: "m1", serialNumber: "EF", issuerDigest, notAfter }));
    const { n, c } = store.view((tx) => ({ n: tx.nodes.get("n1")!, c: tx.clusters.find()[0]! }));
    expect(n.certificate).toEqual({ serialNumber: "ab01", issuerDigest, notAfter });
    expect(c.rootCa!.rootRotation!.renewedManagers).toEqual(["m1"]);
  });
});
