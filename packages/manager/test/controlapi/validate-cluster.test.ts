import { describe, expect, it } from "vitest";
import { Cluster, ClusterSpec, ErrorCode, type DeepPartial } from "@shoal/shared";
import { clusterSpecFor, validateClusterSpec } from "../../src/controlapi/validate-cluster.js";
import { updateCluster } from "../../src/controlapi/clusters.js";
import { MemoryStore } from "../../src/state/store/index.js";

const check = (spec: DeepPartial<ClusterSpec>) => () =>
  validateClusterSpec(ClusterSpec.fromPartial({ annotations: { name: "default" }, ...spec }));

describe("validateClusterSpec", () => {
  it("accepts the defaults and sane settings", () => {
    expect(check({})).not.toThrow();
    expect(
      check({
        orchestration: { taskHistoryRetentionLimit: 5 },
        raft: { snapshotInterval: 10_000 },
        dispatcher: { heartbeatPeriod: { seconds: 5, nanos: 0 }, gracePeriod: { seconds: 15, nanos: 0 } },
        caConfig: { nodeCertExpiry: { seconds: 90 * 86_400, nanos: 0 } },
        encryptionConfig: { autoLockManagers: true },
      }),
    ).not.toThrow();
  });

  it("names the field of each problem", () => {
    expect(check({ annotations: { name: "default", labels: { "a b": "x" } } })).toThrow(
      /^spec\.annotations\.labels: "a b" is not a valid label key/,
    );
    expect(check({ orchestration: { taskHistoryRetentionLimit: 2 ** 53 + 2 } })).toThrow(
      /^spec\.orchestration\.task_history_retention_limit: must be a whole number/,
    );
    expect(check({ raft: { snapshotInterval: -1 } })).toThrow(/^spec\.raft\.snapshot_interval: must be a whole number/);
    expect(check({ dispatcher: { heartbeatPeriod: { seconds: 0, nanos: 0 } } })).toThrow(
      "spec.dispatcher.heartbeat_period: must be at least 100ms",
    );
    expect(check({ dispatcher: { heartbeatPeriod: { seconds: -10, nanos: 0 } } })).toThrow(
      "spec.dispatcher.heartbeat_period: cannot be negative",
    );
    expect(check({ dispatcher: { gracePeriod: { seconds: 2 ** 40, nanos: 0 } } })).toThrow(
      "spec.dispatcher.grace_period: is longer than 10000 years",
    );
    expect(check({ dispatcher: { gracePeriod: { seconds: 1, nanos: 1_000_000_000 } } })).toThrow(
      /^spec\.dispatcher\.grace_period: is not a valid duration/,
    );
    expect(check({ caConfig: { nodeCertExpiry: { seconds: 59, nanos: 0 } } })).toThrow(
      "spec.ca_config.node_cert_expiry: must be at least 1 minute",
    );
    expect(check({ caConfig: { nodeCertExpiry: { seconds: 2 ** 40, nanos: 0 } } })).toThrow(
      "spec.ca_config.node_cert_expiry: is longer than 10000 years",
    );
    expect(check({ caConfig: { nodeCertExpiry: { seconds: 101 * 365 * 86_400, nanos: 0 } } })).toThrow(
      "spec.ca_config.node_cert_expiry: must be at most 100 years",
    );
  });
});

describe("clusterSpecFor", () => {
  const current = Cluster.fromPartial({ id: "c1", spec: { annotations: { name: "default" } } });

  it("keeps the cluster's name when the spec gives none", () => {
    const spec = clusterSpecFor(current, ClusterSpec.fromPartial({ annotations: { name: "", labels: { a: "b" } } }));
    expect(spec.annotations).toEqual({ name: "default", labels: { a: "b" } });
    expect(clusterSpecFor(current, ClusterSpec.fromPartial({})).annotations?.name).toBe("default");
  });

  it("refuses a rename", () => {
    expect(() => clusterSpecFor(current, ClusterSpec.fromPartial({ annotations: { name: "other" } }))).toThrow(
      'spec.annotations.name: a cluster cannot be renamed (from "default" to "other")',
    );
  });
});

describe("UpdateCluster validates the spec", () => {
  it("refuses a bad spec and leaves the cluster as it was", async () => {
    const store = new MemoryStore();
    await store.update((tx) =>
      tx.clusters.create(Cluster.fromPartial({ id: "c1", spec: { annotations: { name: "default" } } })),
    );
    const before = store.view((tx) => tx.clusters.get("c1")!);
    await expect(
      updateCluster(
        store,
        {
          clusterId: "",
          clusterVersion: before.meta!.version,
          spec: ClusterSpec.fromPartial({ annotations: { name: "\0" }, raft: { snapshotInterval: 1 } }),
          rotation: undefined,
        },
        Date.now(),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    await expect(
      updateCluster(
        store,
        {
          clusterId: "",
          clusterVersion: before.meta!.version,
          spec: ClusterSpec.fromPartial({ dispatcher: { heartbeatPeriod: { seconds: -1, nanos: 0 } } }),
          rotation: undefined,
        },
        Date.now(),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    expect(store.view((tx) => tx.clusters.get("c1"))).toEqual(before);
    const { cluster } = await updateCluster(
      store,
      {
        clusterId: "",
        clusterVersion: before.meta!.version,
        spec: ClusterSpec.fromPartial({ annotations: { labels: { a: "b" } } }),
        rotation: undefined,
      },
      Date.now(),
    );
    expect(cluster?.spec?.annotations).toEqual({ name: "default", labels: { a: "b" } });
  });
});
