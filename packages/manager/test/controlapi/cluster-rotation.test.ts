// UpdateCluster with rotation.root_ca: a root rotation starts (a new root cross-signed by the
// current one), its key never in the answer, the tokens unchanged until it ends; a stale version
// is a conflict and starts nothing.
import { Cluster, ErrorCode, pki } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { currentDigest, newRootCa } from "../../src/ca/root-ca.js";
import { isRotating, signingDigest } from "../../src/ca/root-rotation.js";
import { updateCluster } from "../../src/controlapi/clusters.js";
import { MemoryStore } from "../../src/state/store/index.js";

const CLUSTER_ID = "c1u5ter0000000000000000001";
/** The tests' time: the root and the rotation are dated from it. */
const NOW = Date.now();

async function setup(): Promise<{ store: MemoryStore; cluster: () => Cluster }> {
  const { rootCa, ca } = await newRootCa({ clusterId: CLUSTER_ID, now: NOW });
  const store = new MemoryStore();
  await store.update((tx) =>
    tx.clusters.create(
      Cluster.fromPartial({
        id: CLUSTER_ID,
        spec: { annotations: { name: "default" } },
        rootCa,
        rootJoinTokens: { worker: pki.newJoinToken(ca.digest), manager: pki.newJoinToken(ca.digest) },
      }),
    ),
  );
  return { store, cluster: () => store.view((tx) => tx.clusters.get(CLUSTER_ID)!) };
}

describe("UpdateCluster: root CA rotation", () => {
  it("starts a rotation: the new root in the store, its key not in the answer, the tokens unchanged", async () => {
    const { store, cluster } = await setup();
    const before = cluster();
    const res = await updateCluster(
      store,
      {
        clusterId: CLUSTER_ID,
        clusterVersion: before.meta!.version,
        spec: before.spec,
        rotation: { worker: false, manager: false, rootCa: true },
      },
      NOW,
    );
    const stored = cluster().rootCa!;
    expect(isRotating(stored)).toBe(true);
    expect(currentDigest(stored)).toBe(currentDigest(before.rootCa!));
    expect(signingDigest(stored)).not.toBe(currentDigest(stored));
    expect(stored.rootRotation!.caKey.length).toBeGreaterThan(0);
    expect(res.cluster!.rootCa!.rootRotation!.caKey).toHaveLength(0);
    expect(res.cluster!.rootCa!.caKey).toHaveLength(0);
    expect(res.cluster!.rootCa!.rootRotation!.caCert.length).toBeGreaterThan(0);
    expect(cluster().rootJoinTokens).toEqual(before.rootJoinTokens);
  });

  it("a stale cluster version is a conflict and starts nothing", async () => {
    const { store, cluster } = await setup();
    const before = cluster();
    await updateCluster(
      store,
      {
        clusterId: CLUSTER_ID,
        clusterVersion: before.meta!.version,
        spec: before.spec,
        rotation: undefined,
      },
      NOW,
    );
    await expect(
      updateCluster(
        store,
        {
          clusterId: CLUSTER_ID,
          clusterVersion: before.meta!.version,
          spec: before.spec,
          rotation: { worker: false, manager: false, rootCa: true },
        },
        NOW,
      ),
    ).rejects.toMatchObject({ code: ErrorCode.SequenceConflict });
    expect(isRotating(cluster().rootCa)).toBe(false);
  });
});
