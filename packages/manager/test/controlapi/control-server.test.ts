// The Control API's write path on a manager that is not the leader: the errors a client gets
// when no leader is known (a lost quorum) and when the leader cannot be reached, with what they
// mean. Found by the failover suite (scenario 6, loss of quorum): the client got "No connection
// established ... ECONNREFUSED" from a follower, which said nothing about the leader or a quorum.
// And getInfo's view of the members, from the Raft status.
import * as grpc from "@grpc/grpc-js";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ErrorCode,
  RaftMember,
  Reachability,
  ServiceSpec,
  fromServiceError,
  systemClock,
  type GetInfoResponse,
  type ShoalError,
  type TlsMaterial,
} from "@shoal/shared";
import { MemoryStore } from "@shoal/manager";
import { ControlApi } from "../../src/controlapi/control-server.js";
import type { LinearizableReader, PeerStatus, RaftView } from "../../src/state/raft/raft-view.js";
import { material, testCluster } from "../ca/fixtures.js";

let tls: TlsMaterial;

beforeAll(async () => {
  const { ca } = await testCluster();
  tls = await material(ca, "m1", "manager");
});

const members = [1, 2, 3].map((raftId) => RaftMember.create({ raftId, nodeId: `n${raftId}`, addr: `m${raftId}:4242` }));

function raftView(view: {
  isLeader: boolean;
  leaderAddr?: string;
  progress?: [number, PeerStatus][];
}): RaftView & LinearizableReader {
  const raft: RaftView & LinearizableReader = {
    raftId: 1,
    isLeader: view.isLeader,
    leaderId: view.leaderAddr === undefined ? 0 : 1,
    leaderAddr: () => view.leaderAddr,
    memberList: () => members,
    status: () => ({ term: 4, commit: 9, applied: 9, leader: 1, progress: new Map(view.progress ?? []) }),
    linearizableRead: () => Promise.resolve(),
  };
  return raft;
}

function follower(leaderAddr: string | undefined): ControlApi {
  const raft = raftView({ isLeader: false, ...(leaderAddr === undefined ? {} : { leaderAddr }) });
  return new ControlApi({
    nodeId: "n1",
    store: new MemoryStore(),
    raft,
    material: tls,
    clusterId: () => "c1",
    clock: systemClock,
  });
}

function getInfo(api: ControlApi): Promise<GetInfoResponse> {
  return new Promise((resolve, reject) => {
    const handler = api.handlers().getInfo as unknown as (
      call: unknown,
      cb: (err: Partial<grpc.ServiceError> | null, res?: GetInfoResponse) => void,
    ) => void;
    handler({ request: {}, metadata: new grpc.Metadata() }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

function createService(api: ControlApi): Promise<ShoalError> {
  const call = { request: { spec: ServiceSpec.fromPartial({}) }, metadata: new grpc.Metadata() };
  return new Promise((resolve) => {
    const handler = api.handlers().createService as unknown as (
      call: unknown,
      cb: (err: Partial<grpc.ServiceError> | null) => void,
    ) => void;
    handler(call, (err) => resolve(fromServiceError(err)));
  });
}

describe("Control API writes on a follower", () => {
  it("without a leader: NOT_LEADER, naming the quorum and --force-new-cluster", async () => {
    const api = follower(undefined);
    const err = await createService(api);
    api.close();
    expect(err.code).toBe(ErrorCode.NotLeader);
    expect(err.message).toMatch(/lost its quorum \(2 of its 3 managers must be up/);
    expect(err.message).toContain("--force-new-cluster");
  });

  it("with a leader that cannot be reached: UNAVAILABLE, saying the leader may have failed", async () => {
    // Nothing listens on port 1.
    const api = follower("127.0.0.1:1");
    const err = await createService(api);
    api.close();
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toMatch(/the leader at 127\.0\.0\.1:1 cannot be reached from this manager/);
  });
});

describe("Control API getInfo", () => {
  it("on the leader, shows members reachable by the driver's window, not by recentActive", async () => {
    // Just after a check-quorum the core clears recentActive for every peer: member 2 is healthy.
    const raft = raftView({
      isLeader: true,
      leaderAddr: "m1:4242",
      progress: [
        [1, { match: 9, recentActive: true, reachable: true }],
        [2, { match: 9, recentActive: false, reachable: true }],
        [3, { match: 4, recentActive: false, reachable: false }],
      ],
    });
    const api = new ControlApi({
      nodeId: "n1",
      store: new MemoryStore(),
      raft,
      material: tls,
      clusterId: () => "c1",
      clock: systemClock,
    });
    const info = await getInfo(api);
    api.close();
    expect(info.raft?.members.map((m) => [m.member?.raftId, m.reachability, m.matchIndex, m.leader])).toEqual([
      [1, Reachability.REACHABLE, 9, true],
      [2, Reachability.REACHABLE, 9, false],
      [3, Reachability.UNREACHABLE, 4, false],
    ]);
  });

  it("on a follower, shows reachability as unknown", async () => {
    const api = follower("m1:4242");
    const info = await getInfo(api);
    api.close();
    expect(info.raft?.members.every((m) => m.reachability === Reachability.UNKNOWN)).toBe(true);
    expect(info.leaderAddr).toBe("m1:4242");
  });
});
