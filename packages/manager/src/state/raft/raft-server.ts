// The gRPC side of Raft on each manager: messages from peers (RaftTransport) and membership
// changes (RaftMembership: join and leave), which a follower forwards to the leader.
import {
  ErrorCode,
  InvalidArgumentError,
  MANAGER_CHANNEL_OPTIONS,
  NotFoundError,
  RaftMember,
  RaftMembershipClient,
  ShoalError,
  channelCredentials,
  type pki,
  toServiceError,
  unaryCall,
  type JoinRequest,
  type JoinResponse,
  type LeaveRequest,
  type LeaveResponse,
  type Logger,
  type RaftMembershipServer,
  type RaftTransportServer,
  type StreamRaftMessageRequest,
  type TlsMaterial,
} from "@shoal/shared";
import { callerOf, forwardedMetadata } from "../../auth/caller.js";
import { cryptoRandomBytes, randomUint, type RandomBytes } from "../../random-bytes.js";
import { messageFromWire } from "./codec.js";
import { ChunkAssembler } from "./raft-chunks.js";
import { NotLeaderError, type RaftNode } from "./raft-node.js";

export function raftTransportHandlers(raft: () => RaftNode | undefined, logger: Logger): RaftTransportServer {
  return {
    streamRaftMessage: (call, callback) => {
      const chunks = new ChunkAssembler();
      call.on("data", (req: StreamRaftMessageRequest) => {
        try {
          const message = chunks.accept(req);
          if (message) raft()?.step(messageFromWire(message));
        } catch (err: unknown) {
          logger.debug({ err }, "bad raft message");
        }
      });
      call.on("end", () => callback(null, {}));
      call.on("error", () => undefined);
    },
    processRaftMessage: (call, callback) => {
      if (call.request.message) raft()?.step(messageFromWire(call.request.message));
      callback(null, {});
    },
    resolveAddress: (call, callback) => {
      const member = raft()
        ?.memberList()
        .find((m) => m.raftId === call.request.raftId);
      if (!member) callback(toServiceError(new NotFoundError("raft member", String(call.request.raftId))));
      else callback(null, { addr: member.addr });
    },
  };
}

/** A random raft id: non-zero, below 2^53 so that it stays exact as a JavaScript number. */
export function newRaftId(random: RandomBytes = cryptoRandomBytes): number {
  const hi = randomUint(random, 4) & 0x1fffff;
  const lo = randomUint(random, 4);
  return hi * 0x1_0000_0000 + lo || 1;
}

const ADDR = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/;

export class Membership {
  private readonly clients = new Map<string, RaftMembershipClient>();

  constructor(
    private readonly raft: () => RaftNode | undefined,
    /** This manager's certificate, to forward to the leader. */
    private readonly material: TlsMaterial,
    /** For new raft ids. */
    private readonly deps: { readonly random?: RandomBytes } = {},
  ) {}

  handlers(): RaftMembershipServer {
    return {
      join: (call, callback) => {
        this.join(call.request, callerOf(call.metadata)).then(
          (res) => callback(null, res),
          (err: unknown) => callback(toServiceError(err)),
        );
      },
      leave: (call, callback) => {
        this.leave(call.request, callerOf(call.metadata)).then(
          (res) => callback(null, res),
          (err: unknown) => callback(toServiceError(err)),
        );
      },
    };
  }

  private node(): RaftNode {
    const node = this.raft();
    if (!node) throw new ShoalError(ErrorCode.Unavailable, "this manager has not started raft yet");
    return node;
  }

  /**
   * Adds the calling manager to the Raft group. The auth interceptor has checked that the caller
   * holds a manager certificate of this cluster whose node NodeCA created (the manager token
   * admitted it); the node id is the certificate's, never the request's alone.
   */
  async join(req: JoinRequest, caller: pki.CertIdentity | undefined): Promise<JoinResponse> {
    if (!ADDR.test(req.addr))
      throw new InvalidArgumentError(`"${req.addr}" is not a HOST:PORT address`, { field: "addr" });
    if (req.nodeId === "") throw new InvalidArgumentError("is required", { field: "node_id" });
    if (caller?.role !== "manager" || caller.nodeId !== req.nodeId) {
      throw new ShoalError(
        ErrorCode.PermissionDenied,
        `only manager ${req.nodeId} itself, with its manager certificate, may join the Raft group as ${req.nodeId}`,
      );
    }
    const node = this.node();
    if (!node.isLeader) return this.forward("join", req, caller);
    const known = node.memberList().find((m) => m.nodeId === req.nodeId);
    if (known) return { raftId: known.raftId, members: node.memberList(), removedMembers: [] };
    const clash = node.memberList().find((m) => m.addr === req.addr);
    if (clash) {
      throw new ShoalError(
        ErrorCode.AlreadyExists,
        `a manager (raft id ${clash.raftId.toString(16)}) already has the address ${req.addr}; remove it first`,
      );
    }
    const raftId = newRaftId(this.deps.random);
    const context = RaftMember.encode({ raftId, nodeId: req.nodeId, addr: req.addr }).finish();
    await node.changeMembership({ type: "addNode", nodeId: raftId, context });
    // The node NodeCA made for it stays: a manager is a node (the leader's manager-nodes component
    // gives it its ManagerStatus).
    return { raftId, members: node.memberList(), removedMembers: [] };
  }

  async leave(req: LeaveRequest, caller?: pki.CertIdentity): Promise<LeaveResponse> {
    const node = this.node();
    if (!node.isLeader) return this.forward("leave", req, caller);
    const members = node.memberList();
    if (!members.some((m) => m.raftId === req.raftId)) throw new NotFoundError("manager", req.raftId.toString(16));
    if (members.length === 1) {
      throw new ShoalError(ErrorCode.FailedPrecondition, "cannot remove the last manager of the cluster");
    }
    await node.changeMembership({ type: "removeNode", nodeId: req.raftId, context: new Uint8Array(0) });
    return {};
  }

  private forward<K extends "join" | "leave">(
    method: K,
    req: K extends "join" ? JoinRequest : LeaveRequest,
    caller: pki.CertIdentity | undefined,
  ): Promise<K extends "join" ? JoinResponse : LeaveResponse> {
    const leader = this.raft()?.leaderAddr();
    if (!leader) return Promise.reject(new NotLeaderError(undefined));
    let client = this.clients.get(leader);
    if (!client) {
      client = new RaftMembershipClient(leader, channelCredentials(this.material), MANAGER_CHANNEL_OPTIONS);
      this.clients.set(leader, client);
    }
    const options = { metadata: forwardedMetadata(caller), timeoutMs: 15_000 };
    return (
      method === "join"
        ? unaryCall(client, "join", req as JoinRequest, options)
        : unaryCall(client, "leave", req as LeaveRequest, options)
    ) as Promise<K extends "join" ? JoinResponse : LeaveResponse>;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
