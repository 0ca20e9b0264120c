// The Control API on every manager. Reads are linearizable (read index, then the local store);
// writes run on the leader: a follower forwards them. Errors become gRPC statuses here only.
import type * as grpc from "@grpc/grpc-js";
import {
  ErrorCode,
  ShoalError,
  toServiceError,
  type ControlClient,
  type ControlServer,
  type GetInfoResponse,
  type RequestOf,
  type ResponseOf,
  type Clock,
  type TlsMaterial,
  type UnaryMethodName,
  type pki,
} from "@shoal/shared";
import { callerOf, isForwarded } from "../auth/caller.js";
import { memberStatuses } from "../state/raft/member-statuses.js";
import { NotLeaderError } from "../state/raft/not-leader-error.js";
import type { LinearizableReader, RaftView } from "../state/raft/raft-view.js";
import type { MemoryStore } from "../state/store/index.js";
import { LeaderForwarder } from "./forward.js";
import { inspectImage, servePullImage, type ImagePullSource, type PullImageContext } from "./images.js";
import { getNode, listNodes, removeNode, updateNode } from "./nodes.js";
import { getTask, listTasks } from "./tasks.js";
import { RootCaCache } from "../ca/root-ca.js";
import {
  getCluster,
  issueClientCertificate,
  listClusters,
  revokeClientCertificate,
  updateCluster,
} from "./clusters.js";
import { createService, getService, listServices, rebalanceService, removeService, updateService } from "./services.js";
import { getUnlockKey, rotateUnlockKey } from "./unlock-key.js";
import { secretHandlers } from "./secret-handlers.js";
import { networkHandlers } from "./network-handlers.js";
import { dashboardHandlers } from "../dashboard/control-handlers.js";

export interface ControlOptions {
  readonly nodeId: string;
  readonly store: MemoryStore;
  /** Who leads and who is a member (getInfo, forwarding), and read index for reads. */
  readonly raft: RaftView & LinearizableReader;
  /** This manager's certificate, to forward writes to the leader. */
  readonly material: TlsMaterial;
  /** The cluster's id, once known. */
  clusterId(): string;
  /** Dates certificates issued and revoked, rotations and rollouts. */
  readonly clock: Clock;
  /** Pulls on every ready node (the dispatcher's); without it PullImage is refused. */
  readonly imagePulls?: ImagePullSource | undefined;
  /** This manager's dashboard (https://HOST:PORT), if it serves one: for CreateDashboardLogin. */
  readonly dashboardUrl?: (() => string | undefined) | undefined;
}

export class ControlApi {
  private readonly forwarder: LeaderForwarder;
  private readonly caCache = new RootCaCache();

  constructor(private readonly options: ControlOptions) {
    this.forwarder = new LeaderForwarder(options.material);
  }

  handlers(): Partial<ControlServer> {
    return {
      getInfo: this.unary(() => this.info()),
      listNodes: this.read((req) => listNodes(this.options.store, req)),
      getNode: this.read((req) => getNode(this.options.store, req)),
      updateNode: this.write("updateNode", (req) =>
        updateNode(this.options.store, req, () => memberStatuses(this.options.raft)),
      ),
      removeNode: this.write("removeNode", (req) => removeNode(this.options.store, req)),
      createService: this.write("createService", (req) => createService(this.options.store, req, this.options.clock)),
      updateService: this.write("updateService", (req) => updateService(this.options.store, req, this.options.clock)),
      removeService: this.write("removeService", (req) => removeService(this.options.store, req)),
      rebalanceService: this.write("rebalanceService", (req) =>
        rebalanceService(this.options.store, req, this.options.clock),
      ),
      getService: this.read((req) => getService(this.options.store, req)),
      listServices: this.read((req) => listServices(this.options.store, req)),
      getCluster: this.read((req) => getCluster(this.options.store, req)),
      listClusters: this.read(() => listClusters(this.options.store)),
      updateCluster: this.write("updateCluster", (req) =>
        updateCluster(this.options.store, req, this.options.clock.now()),
      ),
      getUnlockKey: this.read(() => getUnlockKey(this.options.store)),
      rotateUnlockKey: this.write("rotateUnlockKey", () => rotateUnlockKey(this.options.store)),
      issueClientCertificate: this.write("issueClientCertificate", (req) =>
        issueClientCertificate(this.options.store, this.caCache, req, this.options.clock.now()),
      ),
      revokeClientCertificate: this.write("revokeClientCertificate", (req) =>
        revokeClientCertificate(this.options.store, req, this.options.clock.now()),
      ),
      getTask: this.read((req) => getTask(this.options.store, req)),
      listTasks: this.read((req) => listTasks(this.options.store, req)),
      pullImage: (call) => {
        servePullImage(this.pullContext(call.metadata), call).catch((err: unknown) =>
          call.emit("error", toServiceError(err)),
        );
      },
      inspectImage: this.unary((req, call) => inspectImage(this.pullContext(call.metadata), req)),
      ...secretHandlers(
        this.options.store,
        (method, fn) => this.write(method, fn),
        (fn) => this.read(fn),
      ),
      ...networkHandlers(
        this.options.store,
        (method, fn) => this.write(method, fn),
        (fn) => this.read(fn),
      ),
      ...dashboardHandlers(
        this.options,
        (method, fn) => this.write(method, fn),
        (fn) => this.read(fn),
      ),
    };
  }

  private pullContext(metadata: grpc.Metadata): PullImageContext {
    const { raft, imagePulls: pulls, clock } = this.options;
    return {
      raft,
      pulls,
      clock,
      forwarder: this.forwarder,
      caller: callerOf(metadata),
      forwarded: isForwarded(metadata),
      noLeader: () => noLeader(raft.memberList().length),
    };
  }

  private info(): GetInfoResponse {
    const { raft } = this.options;
    const status = raft.status();
    const members = memberStatuses(raft);
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
  private write<K extends UnaryMethodName<ControlClient>>(
    method: K,
    fn: (
      req: RequestOf<ControlClient, K>,
      caller: pki.CertIdentity | undefined,
    ) => Promise<ResponseOf<ControlClient, K>>,
  ): grpc.handleUnaryCall<RequestOf<ControlClient, K>, ResponseOf<ControlClient, K>> {
    return this.unary(async (req: RequestOf<ControlClient, K>, call) => {
      const { raft } = this.options;
      if (raft.isLeader) return fn(req, callerOf(call.metadata));
      const leader = raft.leaderAddr();
      if (!leader) throw noLeader(raft.memberList().length);
      // A call forwarded once is not forwarded again: two managers with stale views of the
      // leader must not bounce it between them.
      if (isForwarded(call.metadata)) throw new NotLeaderError(leader);
      return this.forwarder.call(leader, method, req, callerOf(call.metadata));
    });
  }

  close(): void {
    this.forwarder.close();
  }
}

/** Why a write finds no leader, with what the operator can do about it. */
export function noLeader(managers: number): ShoalError {
  const majority = Math.floor(managers / 2) + 1;
  return new ShoalError(
    ErrorCode.NotLeader,
    `no leader is known now: an election is under way, or the cluster has lost its quorum ` +
      `(${majority} of its ${managers} managers must be up to elect a leader; if they are lost for good, ` +
      `restart the last one with shoal manager --force-new-cluster)`,
    { details: { leader: "" } },
  );
}
