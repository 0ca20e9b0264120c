// The Control API on every manager. Reads are linearizable (read index, then the local store);
// writes run on the leader: a follower forwards them. Errors become gRPC statuses here only.
import type * as grpc from "@grpc/grpc-js";
import {
  NotFoundError,
  Reachability,
  toServiceError,
  type ControlServer,
  type GetInfoResponse,
  type ListNodesRequest,
  type Node,
  type RaftMemberStatus,
} from "@shoal/shared";
import type { NodeRegistry } from "../dispatcher/node-registry.js";
import { NotLeaderError, type RaftNode } from "../state/raft/raft-node.js";
import type { MemoryStore } from "../state/store/index.js";
import { LeaderForwarder, isForwarded } from "./forward.js";
import { matchesNodeFilters } from "./node-filters.js";
import { createService, getService, listServices, removeService, updateService } from "./services.js";

export interface ControlOptions {
  readonly nodeId: string;
  readonly registry: NodeRegistry;
  readonly store: MemoryStore;
  readonly raft: RaftNode;
  /** The cluster's id, once known. */
  clusterId(): string;
}

export class ControlApi {
  private readonly forwarder = new LeaderForwarder();

  constructor(private readonly options: ControlOptions) {}

  handlers(): Partial<ControlServer> {
    return {
      getInfo: this.unary(() => this.info()),
      listNodes: this.unary((req: ListNodesRequest) => ({
        nodes: this.options.registry.list().filter((node) => matchesNodeFilters(node, req.filters)),
      })),
      getNode: this.unary((req: { nodeId: string }) => ({ node: this.findNode(req.nodeId) })),
      createService: this.write("createService", (req) => createService(this.options.store, req)),
      updateService: this.write("updateService", (req) => updateService(this.options.store, req)),
      removeService: this.write("removeService", (req) => removeService(this.options.store, req)),
      getService: this.read((req) => getService(this.options.store, req)),
      listServices: this.read((req) => listServices(this.options.store, req)),
    };
  }

  private info(): GetInfoResponse {
    const { raft } = this.options;
    const status = raft.status();
    const members: RaftMemberStatus[] = raft.memberList().map((member) => {
      const progress = status.progress.get(member.raftId);
      const self = member.raftId === raft.raftId;
      return {
        member,
        leader: member.raftId === status.leader,
        reachability: !raft.isLeader
          ? Reachability.UNKNOWN
          : self || progress?.recentActive
            ? Reachability.REACHABLE
            : Reachability.UNREACHABLE,
        matchIndex: progress?.match ?? 0,
      };
    });
    return {
      clusterId: this.options.clusterId(),
      nodeId: this.options.nodeId,
      leaderAddr: raft.leaderAddr() ?? "",
      isLeader: raft.isLeader,
      raft: {
        raftId: raft.raftId,
        leaderRaftId: status.leader,
        term: status.term,
        commitIndex: status.commit,
        appliedIndex: status.applied,
        members,
      },
    };
  }

  private findNode(ref: string): Node {
    const nodes = this.options.registry.list();
    const exact = nodes.find((n) => n.id === ref) ?? nodes.find((n) => n.description?.hostname === ref);
    if (exact) return exact;
    const byPrefix = ref === "" ? [] : nodes.filter((n) => n.id.startsWith(ref));
    if (byPrefix.length === 1) return byPrefix[0]!;
    throw new NotFoundError("node", ref);
  }

  private unary<Req, Res>(
    fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => fn(call.request, call))
        .then(
          (res) => callback(null, res),
          (err: unknown) => callback(toServiceError(err)),
        );
    };
  }

  /** A read: linearizable through read index, then served from this manager's store. */
  private read<Req, Res>(fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
    return this.unary(async (req: Req) => {
      await this.options.raft.linearizableRead(AbortSignal.timeout(10_000));
      return fn(req);
    });
  }

  /** A write: done here on the leader, forwarded to the leader elsewhere. */
  private write<K extends keyof ControlServer & string, Req, Res>(
    method: K,
    fn: (req: Req) => Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return this.unary(async (req: Req, call) => {
      const { raft } = this.options;
      if (raft.isLeader) return fn(req);
      const leader = raft.leaderAddr();
      // A call forwarded once is not forwarded again: two managers with stale views of the
      // leader must not bounce it between them.
      if (!leader || isForwarded(call.metadata)) throw new NotLeaderError(leader);
      return this.forwarder.call<Res>(leader, method, req);
    });
  }

  close(): void {
    this.forwarder.close();
  }
}
