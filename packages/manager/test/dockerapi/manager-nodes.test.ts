// A manager, not a node in the store, as GET /nodes/{id} shows it: made from its Raft membership.
import { hostname } from "node:os";
import { Reachability, type RaftMemberStatus } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { newRootCa } from "../../src/ca/root-ca.js";
import { startRotation } from "../../src/ca/root-rotation.js";
import { toDockerManagerNode } from "../../src/dockerapi/manager-nodes.js";
import { swarmTlsInfo } from "../../src/dockerapi/tls-info.js";
import { dockerAnswer, shapeDifferences } from "./json-kinds.js";

const NOW = Date.parse("2026-11-29T08:31:51Z");

const member = (nodeId: string, reachability: Reachability, leader = false): RaftMemberStatus => ({
  member: { raftId: 1, nodeId, addr: "10.0.0.1:4242" },
  leader,
  reachability,
  matchIndex: 0,
});

describe("toDockerManagerNode", () => {
  it("shows the serving manager with its host, as a manager that runs no tasks", async () => {
    const { rootCa } = await newRootCa({ clusterId: "c1", now: NOW });
    const node = toDockerManagerNode(member("m1", Reachability.UNKNOWN, true), { self: true, rootCa });
    // No store object: no dates; no engine: no plugins.
    expect(shapeDifferences(node, dockerAnswer("docker-20.10-node.json"))).toEqual([
      "$.CreatedAt: missing",
      "$.UpdatedAt: missing",
      "$.Description.Engine.Plugins: missing",
    ]);
    expect(node).toMatchObject({
      ID: "m1",
      Spec: { Labels: {}, Role: "manager", Availability: "active" },
      Description: { Hostname: hostname(), TLSInfo: swarmTlsInfo(rootCa) },
      Status: { State: "ready", Addr: "10.0.0.1" },
      ManagerStatus: { Leader: true, Reachability: "reachable", Addr: "10.0.0.1:4242" },
    });
  });

  it("shows another manager by what the Raft leader knows of it", () => {
    const down = toDockerManagerNode(member("m2", Reachability.UNREACHABLE), { self: false, rootCa: undefined });
    expect(down).toMatchObject({
      Description: { TLSInfo: {} },
      Status: { State: "down" },
      ManagerStatus: { Leader: false, Reachability: "unreachable" },
    });
    const unknown = toDockerManagerNode(member("m3", Reachability.UNKNOWN), { self: false });
    expect(unknown).toMatchObject({ Status: { State: "unknown" }, ManagerStatus: { Reachability: "unknown" } });
  });

  it("names the new root as the issuer of a manager that renewed during a rotation", async () => {
    const { rootCa } = await newRootCa({ clusterId: "c1", now: NOW });
    const rotating = await startRotation(rootCa, "c1", NOW);
    const renewed = { ...rotating, rootRotation: { ...rotating.rootRotation!, renewedManagers: ["m1"] } };
    const tls = (self: string): unknown =>
      (
        toDockerManagerNode(member(self, Reachability.REACHABLE), { self: false, rootCa: renewed }) as {
          Description: { TLSInfo: unknown };
        }
      ).Description.TLSInfo;
    expect(tls("m1")).toEqual(swarmTlsInfo(renewed));
    expect(tls("m2")).toEqual(swarmTlsInfo(rootCa));
  });
});
