// A Docker swarm spec as Shoal's ClusterSpec: what GET /swarm showed comes back unchanged, what a
// client changes is stored, and what Shoal cannot do is refused with the field named.
import { Cluster, ErrorCode, type ClusterSpec } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { decodeShape } from "../../src/dockerapi/json-shape.js";
import { DEFAULT_MANAGER_SETTINGS, managerSettings } from "../../src/dockerapi/manager-settings.js";
import { SWARM_SPEC_SHAPE, fromDockerSwarmSpec, type DockerSwarmSpec } from "../../src/dockerapi/swarm-spec.js";
import { toDockerSwarmSpec } from "../../src/dockerapi/swarm-view.js";

const NETWORK = "com.shoal.network/web_default";
const DAY_NS = 86_400 * 1e9;

const cluster = Cluster.fromPartial({
  id: "c1",
  spec: {
    annotations: { name: "default", labels: { team: "a", [NETWORK]: '{"Name":"web_default"}' } },
    orchestration: { taskHistoryRetentionLimit: 3 },
    caConfig: { nodeCertExpiry: { seconds: 30 * 86_400, nanos: 0 } },
    encryptionConfig: { autoLockManagers: true },
  },
});

/** What GET /swarm showed, as a client decodes and sends it back. */
const shown = (): DockerSwarmSpec =>
  JSON.parse(JSON.stringify(toDockerSwarmSpec(cluster, DEFAULT_MANAGER_SETTINGS))) as DockerSwarmSpec;

const update = (body: DockerSwarmSpec): { spec: ClusterSpec; rotateRootCa: boolean } =>
  fromDockerSwarmSpec(body, cluster, DEFAULT_MANAGER_SETTINGS);

function refusal(body: DockerSwarmSpec): unknown {
  try {
    update(body);
  } catch (err: unknown) {
    return err;
  }
  throw new Error("accepted");
}

describe("fromDockerSwarmSpec", () => {
  it("takes back what GET /swarm showed without a change, reserved labels kept", () => {
    const body = shown();
    expect(decodeShape(body, SWARM_SPEC_SHAPE)).toEqual(body);
    const { spec, rotateRootCa } = update(body);
    expect(rotateRootCa).toBe(false);
    expect(spec.annotations).toEqual({ name: "default", labels: cluster.spec!.annotations!.labels });
    expect(spec.orchestration?.taskHistoryRetentionLimit).toBe(3);
    expect(spec.caConfig?.nodeCertExpiry).toEqual({ seconds: 30 * 86_400, nanos: 0 });
    expect(spec.encryptionConfig?.autoLockManagers).toBe(true);
    expect(toDockerSwarmSpec({ ...cluster, spec }, DEFAULT_MANAGER_SETTINGS)).toEqual(body);
  });

  it("stores what the docker CLI changes: labels, history limit, certificate expiry, autolock", () => {
    const body = shown();
    body.Labels = { team: "b" };
    body.Orchestration = { TaskHistoryRetentionLimit: 10 };
    body.CAConfig = { ...body.CAConfig, NodeCertExpiry: 2 * DAY_NS + 1 };
    body.EncryptionConfig = { AutoLockManagers: false };
    const { spec } = update(body);
    expect(spec.annotations?.labels).toEqual({ team: "b", [NETWORK]: cluster.spec!.annotations!.labels[NETWORK] });
    expect(spec.orchestration?.taskHistoryRetentionLimit).toBe(10);
    expect(spec.caConfig?.nodeCertExpiry).toEqual({ seconds: 2 * 86_400, nanos: 1 });
    expect(spec.encryptionConfig?.autoLockManagers).toBe(false);
  });

  it("reads a field left out (docker-py sends only what it is given) as its default, as Docker does", () => {
    const { spec } = update({ CAConfig: { NodeCertExpiry: 90 * DAY_NS } });
    expect(spec.annotations).toEqual({ name: "default", labels: { [NETWORK]: '{"Name":"web_default"}' } });
    expect(spec.orchestration?.taskHistoryRetentionLimit).toBe(0);
    expect(spec.encryptionConfig?.autoLockManagers).toBe(false);
    expect(update({}).spec.caConfig?.nodeCertExpiry).toBeUndefined();
  });

  it("accepts the manager's own Raft and dispatcher settings, or 0, and refuses others naming the field", () => {
    const settings = managerSettings({ raft: { snapshotInterval: 500 }, heartbeatPeriodMs: 2000 });
    const accepted: DockerSwarmSpec = {
      Raft: { SnapshotInterval: 500, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 0 },
      Dispatcher: { HeartbeatPeriod: 2e9 },
    };
    expect(() => fromDockerSwarmSpec(accepted, cluster, settings)).not.toThrow();
    for (const [body, field] of [
      [{ Raft: { KeepOldSnapshots: 5 } }, "Raft.KeepOldSnapshots"],
      [{ Raft: { LogEntriesForSlowFollowers: 7 } }, "Raft.LogEntriesForSlowFollowers"],
      [{ Raft: { ElectionTick: 3 } }, "Raft.ElectionTick"],
      [{ Raft: { HeartbeatTick: 2 } }, "Raft.HeartbeatTick"],
    ] as const) {
      expect(() => fromDockerSwarmSpec(body, cluster, settings), field).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidArgument, field }),
      );
    }
  });

  it("stores the snapshot interval and heartbeat period asked for; the value shown keeps an unset one unset", () => {
    const settings = managerSettings({ raft: { snapshotInterval: 500 }, heartbeatPeriodMs: 2000 });
    const changed = fromDockerSwarmSpec(
      { Raft: { SnapshotInterval: 20_000 }, Dispatcher: { HeartbeatPeriod: 5e9 } },
      cluster,
      settings,
    );
    expect(changed.spec.raft?.snapshotInterval).toBe(20_000);
    expect(changed.spec.dispatcher?.heartbeatPeriod).toEqual({ seconds: 5, nanos: 0 });
    const same = fromDockerSwarmSpec(
      { Raft: { SnapshotInterval: 500 }, Dispatcher: { HeartbeatPeriod: 2e9 } },
      cluster,
      settings,
    );
    expect(same.spec.raft?.snapshotInterval).toBe(0);
    expect(same.spec.dispatcher?.heartbeatPeriod).toBeUndefined();
  });

  it("refuses what Shoal does not do: external or given CAs, a task log driver, a reserved label", () => {
    for (const [body, field] of [
      [{ CAConfig: { ExternalCAs: [{ Protocol: "cfssl", URL: "https://ca" }] } }, "CAConfig.ExternalCAs"],
      [{ CAConfig: { SigningCACert: "-----BEGIN CERTIFICATE-----" } }, "CAConfig.SigningCACert"],
      [{ CAConfig: { SigningCAKey: "-----BEGIN EC PRIVATE KEY-----" } }, "CAConfig.SigningCAKey"],
      [{ TaskDefaults: { LogDriver: { Name: "syslog" } } }, "TaskDefaults.LogDriver"],
      [{ Labels: { [NETWORK]: "{}" } }, `Labels.${NETWORK}`],
      [{ Orchestration: { TaskHistoryRetentionLimit: -1 } }, "Orchestration.TaskHistoryRetentionLimit"],
      [{ CAConfig: { NodeCertExpiry: 1.5 } }, "CAConfig.NodeCertExpiry"],
      [{ Name: "other" }, "Name"],
    ] as const) {
      expect(refusal(body), field).toMatchObject({ code: ErrorCode.InvalidArgument, field });
    }
    expect(refusal({ Name: "other" })).toMatchObject({ message: 'Name: swarm spec must be named "default"' });
    expect(() => update({ CAConfig: { ExternalCAs: [] }, TaskDefaults: {} })).not.toThrow();
  });

  it("starts a root CA rotation when ForceRotate goes up from the 0 shown (docker swarm ca --rotate)", () => {
    const body = shown();
    body.CAConfig = { ...body.CAConfig, ForceRotate: 1 };
    expect(update(body).rotateRootCa).toBe(true);
  });

  it("refuses a field Docker does not have, or of the wrong type, by its shape", () => {
    expect(() => decodeShape({ Raft: { Snapshots: 1 } }, SWARM_SPEC_SHAPE)).toThrow(/Raft\.Snapshots: unknown field/);
    expect(() => decodeShape({ EncryptionConfig: { AutoLockManagers: "yes" } }, SWARM_SPEC_SHAPE)).toThrow(
      /EncryptionConfig\.AutoLockManagers: expected a boolean/,
    );
  });
});
