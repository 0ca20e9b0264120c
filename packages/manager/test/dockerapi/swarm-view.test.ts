// Shoal's cluster as Docker shows a swarm: the fields Docker 20.10 gives (names and types, as a
// recorded `docker info` has them), with the values in force.
import { Cluster } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { newRootCa } from "../../src/ca/root-ca.js";
import { startRotation } from "../../src/ca/root-rotation.js";
import { DEFAULT_MANAGER_SETTINGS, managerSettings } from "../../src/dockerapi/manager-settings.js";
import { toDockerClusterInfo, toDockerSwarm } from "../../src/dockerapi/swarm-view.js";
import { UNMAPPED_LABEL } from "../../src/dockerapi/unmapped-fields.js";
import { dockerAnswer, shapeDifferences } from "./json-kinds.js";

const NOW = Date.parse("2026-11-29T08:31:51Z");

/** Swarm.Cluster of a recorded Docker 20.10 /info. */
const DOCKER_CLUSTER_INFO = (dockerAnswer("docker-20.10-info.json")["Swarm"] as Record<string, unknown>)["Cluster"];

async function founded(): Promise<Cluster> {
  const { rootCa } = await newRootCa({ clusterId: "c1", now: NOW });
  return Cluster.fromPartial({
    id: "c1u5ter0000000000000000001",
    meta: { version: { index: 12 }, createdAt: new Date(NOW), updatedAt: new Date(NOW + 1000) },
    spec: {
      annotations: {
        name: "default",
        labels: { "com.shoal.network/s_default": "{}", [UNMAPPED_LABEL]: "{}" },
      },
    },
    rootCa,
    rootJoinTokens: { worker: "SWMTKN-1-w", manager: "SWMTKN-1-m" },
  });
}

describe("toDockerClusterInfo", () => {
  it("has Docker's fields and types, and the values in force for what the spec leaves unset", async () => {
    const cluster = await founded();
    const info = toDockerClusterInfo(cluster, DEFAULT_MANAGER_SETTINGS);
    expect(shapeDifferences(info, DOCKER_CLUSTER_INFO)).toEqual([]);
    expect(info).toMatchObject({
      ID: "c1u5ter0000000000000000001",
      Version: { Index: 12 },
      CreatedAt: "2026-11-29T08:31:51.000Z",
      UpdatedAt: "2026-11-29T08:31:52.000Z",
      Spec: {
        Name: "default",
        Labels: {},
        Orchestration: { TaskHistoryRetentionLimit: 5 },
        Raft: { SnapshotInterval: 10_000, KeepOldSnapshots: 2, LogEntriesForSlowFollowers: 1000 },
        Dispatcher: { HeartbeatPeriod: 1e9 },
        CAConfig: { NodeCertExpiry: 7776000000000000 },
        EncryptionConfig: { AutoLockManagers: false },
      },
      RootRotationInProgress: false,
      DefaultAddrPool: ["10.0.0.0/8"],
      SubnetSize: 24,
      DataPathPort: 4789,
    });
  });

  it("shows the serving manager's settings, the stored expiry and limit, and a rotation under way", async () => {
    const base = await founded();
    const cluster = Cluster.fromPartial({
      ...base,
      spec: {
        ...base.spec,
        orchestration: { taskHistoryRetentionLimit: 2 },
        caConfig: { nodeCertExpiry: { seconds: 3600, nanos: 0 } },
        encryptionConfig: { autoLockManagers: true },
      },
      rootCa: await startRotation(base.rootCa!, base.id, NOW),
    });
    const info = toDockerClusterInfo(cluster, managerSettings({ raft: { electionTick: 20 }, heartbeatPeriodMs: 500 }));
    expect(info).toMatchObject({
      Spec: {
        Orchestration: { TaskHistoryRetentionLimit: 2 },
        Raft: { ElectionTick: 20 },
        Dispatcher: { HeartbeatPeriod: 5e8 },
        CAConfig: { NodeCertExpiry: 3600e9 },
        EncryptionConfig: { AutoLockManagers: true },
      },
      RootRotationInProgress: true,
    });
  });
});

describe("toDockerSwarm", () => {
  it("adds the join tokens to ClusterInfo", async () => {
    const swarm = toDockerSwarm(await founded(), DEFAULT_MANAGER_SETTINGS);
    const model = { ...(DOCKER_CLUSTER_INFO as object), JoinTokens: { Worker: "", Manager: "" } };
    expect(shapeDifferences(swarm, model)).toEqual([]);
    expect(swarm["JoinTokens"]).toEqual({ Worker: "SWMTKN-1-w", Manager: "SWMTKN-1-m" });
  });
});
