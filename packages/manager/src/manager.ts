// A manager process: Raft with its peers, the replicated store, and the gRPC services that agents
// (Dispatcher), clients (Control) and other managers (RaftTransport, RaftMembership) call.
//
// Start-up: an empty data dir without --join founds a new cluster; with --join it asks the
// cluster to add it (the leader proposes the membership change) and then learns the state from
// the leader; a data dir with state restarts from it; with --force-new-cluster it restarts from
// it as the only member (recovery of a lost quorum). Stop: a leader hands leadership over first.
import * as grpc from "@grpc/grpc-js";
import { join as joinPath } from "node:path";
import {
  Backoff,
  BackupService,
  Cluster,
  ControlService,
  DispatcherService,
  LogsService,
  ErrorCode,
  EventsService,
  RaftMembershipClient,
  RaftMembershipService,
  RaftTransportService,
  ShoalError,
  componentLogger,
  errorMessage,
  fromServiceError,
  newId,
  systemClock,
  type Clock,
  type JoinResponse,
  type Logger,
} from "@shoal/shared";
import { newJoinToken, tokenRole } from "./controlapi/clusters.js";
import { ControlApi } from "./controlapi/control-server.js";
import { MAX_CONTROL_REQUEST_BYTES, guardRequests, refusedRequest } from "./controlapi/request-guard.js";
import { Dispatcher } from "./dispatcher/dispatcher.js";
import { DockerApiServer } from "./dockerapi/index.js";
import { LogBroker } from "./logs/log-broker.js";
import { EventLog, eventsHandlers } from "./events/index.js";
import { backupHandlers } from "./backup/index.js";
import { serveManagerMetrics } from "./metrics/index.js";
import { LeaderComponents } from "./leader-components.js";
import {
  GlobalOrchestrator,
  ReplicatedOrchestrator,
  RestartSupervisor,
  TaskReaper,
  Updater,
} from "./orchestrator/index.js";
import { Scheduler, nodeMatchesTaskSpec } from "./scheduler/index.js";
import { loadIdentity, saveIdentity, type ManagerIdentity } from "./identity.js";
import { RaftNode } from "./state/raft/raft-node.js";
import { Membership, newRaftId, raftTransportHandlers } from "./state/raft/raft-server.js";
import { GRPC_MESSAGE_LIMITS } from "./state/raft/transport.js";
import { MemoryStore } from "./state/store/index.js";

export interface ManagerOptions {
  /** host:port to listen on; port 0 picks a free one. */
  readonly listen: string;
  /** host:port other managers and agents reach this one on; default: the listen address. */
  readonly advertise?: string;
  /** host:port of a manager of the cluster to join (only with an empty data dir). */
  readonly join?: string;
  /** The cluster's manager join token, to join it. */
  readonly joinToken?: string;
  /**
   * Recover from a lost quorum (as `docker swarm init --force-new-cluster`): restart from the data
   * dir as the only manager of the cluster, keeping all of its state and its join tokens; the
   * other managers are no longer members (their raft messages are refused) and new ones can join.
   */
  readonly forceNewCluster?: boolean;
  readonly dataDir: string;
  /** HOST:PORT to serve the Docker Engine API on (for the docker CLI); off when unset. */
  readonly dockerApi?: string;
  /** HOST:PORT to serve Prometheus metrics on, at /metrics; off when unset. */
  readonly metricsAddr?: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly heartbeatPeriodMs?: number;
  readonly raft?: {
    readonly tickMs?: number;
    readonly electionTick?: number;
    readonly snapshotInterval?: number;
    readonly sync?: boolean;
  };
}

export class Manager {
  private readonly logger: Logger;
  private readonly server = new grpc.Server(GRPC_MESSAGE_LIMITS);
  private dispatcher: Dispatcher | undefined;
  private leaderParts: LeaderComponents | undefined;
  private control: ControlApi | undefined;
  private dockerApi: DockerApiServer | undefined;
  private logBroker: LogBroker | undefined;
  private events: EventLog | undefined;
  private metrics: { address: string; stop(): Promise<void> } | undefined;
  private membership: Membership | undefined;
  private raftNode: RaftNode | undefined;
  private store: MemoryStore | undefined;
  private stopping: Promise<void> | undefined;
  /** The address the Docker Engine API is served on, once started ("" when off). */
  get dockerApiAddress(): string {
    return this.dockerApi?.address ?? "";
  }
  /** The address metrics are served on, once started ("" when off). */
  get metricsAddress(): string {
    return this.metrics?.address ?? "";
  }

  /** The address the server listens on, once started. */
  address = "";
  identity: ManagerIdentity | undefined;

  constructor(private readonly options: ManagerOptions) {
    this.logger = componentLogger(options.logger, "manager");
  }

  get raft(): RaftNode | undefined {
    return this.raftNode;
  }

  async start(): Promise<void> {
    const { identity, fresh } = await loadIdentity(this.options.dataDir);
    if (this.options.forceNewCluster && (fresh || identity.raftId === 0)) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `--force-new-cluster needs the data dir of a manager that was a member of a cluster; ${this.options.dataDir} holds none`,
      );
    }
    if (this.options.forceNewCluster && this.options.join) {
      throw new ShoalError(ErrorCode.InvalidArgument, "--force-new-cluster and --join do not go together");
    }
    if (this.options.join && !fresh && identity.raftId !== 0) {
      this.logger.info("data dir holds a cluster member already; --join is ignored");
    }
    const clock = this.options.clock ?? systemClock;
    const store = new MemoryStore({
      clock,
      proposer: { propose: async (actions, signal) => ({ index: await this.raftNode!.propose(actions, signal) }) },
    });
    this.store = store;
    this.dispatcher = new Dispatcher({
      store,
      clock,
      logger: this.options.logger,
      isLeader: () => this.raftNode?.isLeader ?? false,
      tokenRole: (token) =>
        tokenRole(
          store.view((tx) => tx.clusters.find()[0]),
          token,
        ),
      leaderAddr: () => this.raftNode?.leaderAddr(),
      managers: () =>
        (this.raftNode?.memberList() ?? []).map((m) => ({
          nodeId: m.nodeId,
          addr: m.addr,
          weight: m.raftId === this.raftNode?.leaderId ? 10 : 1,
        })),
      ...(this.options.heartbeatPeriodMs !== undefined ? { heartbeatPeriodMs: this.options.heartbeatPeriodMs } : {}),
    });
    this.membership = new Membership(
      () => this.raftNode,
      (token) =>
        tokenRole(
          store.view((tx) => tx.clusters.find()[0]),
          token,
        ),
    );
    const logger = this.options.logger;
    this.leaderParts = new LeaderComponents(
      [
        () => ({ name: "replicated", component: new ReplicatedOrchestrator({ store, logger, clock }) }),
        () => ({
          name: "global",
          component: new GlobalOrchestrator({ store, logger, clock, nodeMatches: nodeMatchesTaskSpec }),
        }),
        () => ({
          name: "restart",
          component: new RestartSupervisor({ store, logger, clock, nodeMatches: nodeMatchesTaskSpec }),
        }),
        () => ({
          name: "updater",
          component: new Updater({ store, logger, clock, nodeMatches: nodeMatchesTaskSpec }),
        }),
        () => ({ name: "reaper", component: new TaskReaper({ store, logger, clock }) }),
        () => ({ name: "scheduler", component: new Scheduler({ store, logger, clock }) }),
      ],
      logger,
    );

    // Serve before joining: the leader starts sending to us as soon as we are a member.
    this.server.addService(
      RaftTransportService,
      raftTransportHandlers(() => this.raftNode, this.logger),
    );
    this.server.addService(RaftMembershipService, this.membership.handlers());
    this.server.addService(DispatcherService, this.dispatcher.handlers());
    this.logBroker = new LogBroker({
      logger: this.options.logger,
      isLeader: () => this.raftNode?.isLeader ?? false,
      leaderAddr: () => this.raftNode?.leaderAddr(),
    });
    this.server.addService(LogsService, this.logBroker.handlers());
    // Cluster events, from this manager's own replica of the store (watched before raft applies).
    this.events = new EventLog({ store, logger, clock });
    this.events.start();
    this.server.addService(EventsService, eventsHandlers(this.events));
    this.server.addService(
      BackupService,
      backupHandlers({ store, raft: () => this.raftNode, nodeId: identity.nodeId }),
    );
    // Control is served from the start, but answers only once raft runs (below).
    let controlImpl: grpc.UntypedServiceImplementation = {};
    const delegating: grpc.UntypedServiceImplementation = {};
    for (const [name] of Object.entries(ControlService)) {
      delegating[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const impl = controlImpl[name] as grpc.handleUnaryCall<unknown, unknown> | undefined;
        const refused = refusedRequest(call.request);
        if (refused) callback(refused);
        else if (impl) impl(call, callback);
        else
          callback({
            code: this.raftNode ? grpc.status.UNIMPLEMENTED : grpc.status.UNAVAILABLE,
            details: `${name}: not available on this manager yet`,
          });
      }) as grpc.UntypedHandleCall;
    }
    // Requests over the Control limit or not decodable are refused here (the server's own limit is Raft's).
    this.server.addService(guardRequests(ControlService, MAX_CONTROL_REQUEST_BYTES), delegating);
    await this.bind();
    const advertise = this.options.advertise ?? this.address;
    if (/^0\.0\.0\.0:|^\[::\]:/.test(advertise)) {
      throw new ShoalError(
        ErrorCode.InvalidArgument,
        `--advertise is needed: ${advertise} is not an address other managers can reach`,
      );
    }

    let raftId = identity.raftId;
    let bootstrap = false;
    let knownMembers: JoinResponse["members"] = [];
    if (raftId === 0) {
      if (this.options.join) {
        const joined = await this.joinCluster(this.options.join, identity.nodeId, advertise);
        raftId = joined.raftId;
        knownMembers = joined.members;
      } else {
        raftId = newRaftId();
        bootstrap = true;
      }
      this.identity = { nodeId: identity.nodeId, raftId };
      await saveIdentity(this.options.dataDir, this.identity);
    } else {
      this.identity = identity;
    }

    const raft = new RaftNode({
      raftId,
      nodeId: identity.nodeId,
      addr: advertise,
      dataDir: joinPath(this.options.dataDir, "raft"),
      logger: this.options.logger,
      stateMachine: store,
      bootstrap,
      knownMembers,
      ...(this.options.forceNewCluster ? { forceNewCluster: true } : {}),
      ...(this.options.raft?.tickMs !== undefined ? { tickMs: this.options.raft.tickMs } : {}),
      ...(this.options.raft?.electionTick !== undefined ? { electionTick: this.options.raft.electionTick } : {}),
      ...(this.options.raft?.snapshotInterval !== undefined
        ? { snapshotInterval: this.options.raft.snapshotInterval }
        : {}),
      ...(this.options.raft?.sync !== undefined ? { sync: this.options.raft.sync } : {}),
      onLeadership: (isLeader) => {
        this.logger.info({ isLeader }, isLeader ? "this manager is the leader" : "this manager is a follower");
        if (isLeader) void this.ensureCluster();
        this.dispatcher?.setLeader(isLeader);
        void this.leaderParts?.setLeader(isLeader);
      },
      onRemoved: () => this.logger.warn("removed from the cluster; this manager no longer takes part"),
    });
    this.raftNode = raft;
    this.control = new ControlApi({
      nodeId: identity.nodeId,
      store,
      raft,
      clusterId: () => store.view((tx) => tx.clusters.find()[0]?.id ?? ""),
    });
    controlImpl = this.control.handlers() as grpc.UntypedServiceImplementation;
    await raft.start();
    if (this.options.dockerApi !== undefined) {
      this.dockerApi = new DockerApiServer({
        listen: this.options.dockerApi,
        managerAddr: this.address.replace(/^0\.0\.0\.0:/, "127.0.0.1:").replace(/^\[::\]:/, "[::1]:"),
        nodeId: identity.nodeId,
        advertise,
        logger: this.options.logger,
      });
      await this.dockerApi.start();
    }
    if (this.options.metricsAddr !== undefined) {
      this.metrics = await serveManagerMetrics(this.options.metricsAddr, {
        store,
        raft: () => this.raftNode,
        logger: this.options.logger,
        labels: { node_id: identity.nodeId },
      });
    }
    this.logger.info(
      { address: this.address, advertise, nodeId: identity.nodeId, raftId: raftId.toString(16) },
      "manager started",
    );
  }

  private async bind(): Promise<void> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(this.options.listen, grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err
          ? reject(new ShoalError(ErrorCode.Unavailable, `cannot listen on ${this.options.listen}: ${err.message}`))
          : resolve(bound),
      ),
    );
    this.address = `${this.options.listen.slice(0, this.options.listen.lastIndexOf(":"))}:${port}`;
  }

  /** Asks the cluster at `target` to add this manager; retries while it has no leader. */
  private async joinCluster(target: string, nodeId: string, addr: string): Promise<JoinResponse> {
    const client = new RaftMembershipClient(target, grpc.credentials.createInsecure());
    const backoff = new Backoff({ initialMs: 200, maxMs: 2000 });
    const deadline = Date.now() + 60_000;
    try {
      for (;;) {
        try {
          const res = await new Promise<JoinResponse>((resolve, reject) =>
            client.join(
              { addr, nodeId, joinToken: this.options.joinToken ?? "" },
              new grpc.Metadata(),
              { deadline: Date.now() + 20_000 },
              (err, r) => (err ? reject(fromServiceError(err)) : resolve(r)),
            ),
          );
          this.logger.info(
            { via: target, raftId: res.raftId.toString(16), members: res.members.length },
            "joined the cluster",
          );
          return res;
        } catch (err: unknown) {
          const e = err as ShoalError;
          const retryable =
            e.code === ErrorCode.Unavailable || e.code === ErrorCode.NotLeader || e.code === ErrorCode.DeadlineExceeded;
          if (!retryable || Date.now() > deadline) {
            throw new ShoalError(
              e.code ?? ErrorCode.Unavailable,
              `cannot join the cluster through ${target}: ${errorMessage(err)}`,
            );
          }
          await new Promise((r) => setTimeout(r, backoff.next()));
        }
      }
    } finally {
      client.close();
    }
  }

  /** The leader makes sure the cluster object exists (its id is the cluster's id). */
  private async ensureCluster(): Promise<void> {
    const store = this.store!;
    try {
      await store.update((tx) => {
        if (tx.clusters.find().length > 0) return;
        const id = newId();
        tx.clusters.create(
          Cluster.fromPartial({
            id,
            spec: { annotations: { name: "default" } },
            rootJoinTokens: { worker: newJoinToken(id), manager: newJoinToken(id) },
          }),
        );
      });
    } catch (err: unknown) {
      this.logger.debug({ err: errorMessage(err) }, "could not create the cluster object yet");
    }
  }

  /** Stops serving: hands leadership over, ends agent sessions, then the server. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.dockerApi?.stop();
      this.logBroker?.close();
      await this.events?.stop();
      await this.metrics?.stop();
      if (this.raftNode?.isLeader) await this.raftNode.transferLeadership().catch(() => false);
      this.dispatcher?.stop();
      await this.leaderParts?.close();
      this.control?.close();
      this.membership?.close();
      await this.raftNode?.stop();
      this.store?.close();
      // Peers keep their raft streams to us open: give calls in flight a moment, then cut.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          this.server.forceShutdown();
          resolve();
        }, 500);
        this.server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      this.logger.info("manager stopped");
    })();
    return this.stopping;
  }
}
