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
  NodeCAService,
  ControlService,
  DispatcherService,
  LogsService,
  ErrorCode,
  EventsService,
  RaftMembershipClient,
  RaftMembershipService,
  RaftTransportService,
  ShoalError,
  MANAGER_CHANNEL_OPTIONS,
  channelCredentials,
  componentLogger,
  durationFromMs,
  durationToMs,
  errorMessage,
  fromServiceError,
  leafIdentity,
  newId,
  nodeRenewer,
  serverCredentials,
  systemClock,
  type Clock,
  type JoinResponse,
  type Logger,
  type RevokedCertificate,
  type TlsMaterial,
} from "@shoal/shared";
import { callerOf } from "./auth/caller.js";
import { authInterceptor, authorizeRule } from "./auth/interceptor.js";
import { DOCKER_API_RULE } from "./auth/policy.js";
import { NodeCaServer } from "./ca/ca-server.js";
import type { ClusterCa } from "./ca/cluster-init.js";
import { managerCertificate, nodeCertDir } from "./ca/manager-certificate.js";
import { ControlApi } from "./controlapi/control-server.js";
import { clusterUnlockKey } from "./controlapi/unlock-key.js";
import { AutolockFollower, RaftKeys, UnlockSocket } from "./encryption/index.js";
import { MAX_CONTROL_REQUEST_BYTES, guardRequests, refusedRequest } from "./controlapi/request-guard.js";
import { Dispatcher } from "./dispatcher/dispatcher.js";
import { DockerApiServer } from "./dockerapi/index.js";
import { LogBroker } from "./logs/log-broker.js";
import { EventLog, eventsHandlers } from "./events/index.js";
import { backupHandlers } from "./backup/index.js";
import { serveManagerMetrics } from "./metrics/index.js";
import { ManagerCaFollower } from "./ca/manager-ca-follower.js";
import { LeaderComponents } from "./lifecycle/leader-components.js";
import { leaderFactories } from "./orchestrator/leader-factories.js";
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
  /** Node certificate lifetime of a cluster founded now (its ca_config); default 90 days. */
  readonly certExpiryMs?: number;
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
  /** Every call passes the auth interceptor: certificate, cluster, policy table, store. */
  private readonly server: grpc.Server;
  private material: TlsMaterial | undefined;
  private renewal: { stop(): void } | undefined;
  /** The CA and tokens this manager made when it founded the cluster, until stored. */
  private founded: { readonly clusterId: string; readonly ca: ClusterCa } | undefined;
  /** The members a joining manager learnt, until its raft node runs. */
  private joinedMembers: JoinResponse["members"] = [];
  private raftStarted = false;
  /** While locked (autolock): the unlock socket, the only thing served. */
  private unlockSocket: UnlockSocket | undefined;
  private autolock: AutolockFollower | undefined;
  /**
   * While the Join call is out, the leader already sends to this manager, whose members are not
   * known yet: any manager certificate of the cluster (its CA is the one the token pinned) is heard.
   */
  private joining = false;
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
    this.server = new grpc.Server({
      ...GRPC_MESSAGE_LIMITS,
      interceptors: [
        authInterceptor({
          store: () => this.store,
          rootCaOf: (cluster) => cluster.rootCa,
          isRaftMember: (nodeId) => this.isRaftMember(nodeId),
          logger: options.logger,
        }),
      ],
    });
  }

  get raft(): RaftNode | undefined {
    return this.raftNode;
  }

  /** This manager's certificate material (for in-process clients of it), once started. */
  get tls(): TlsMaterial | undefined {
    return this.material;
  }

  /**
   * Whether a manager may speak Raft to this one. A joiner also hears the members that admitted it
   * until its own admission is applied (the leader's snapshot may predate them), and any manager
   * while its Join call is out.
   */
  private isRaftMember(nodeId: string): boolean {
    const raft = this.raftNode;
    if (raft && this.raftStarted && !raft.admitting) this.joinedMembers = [];
    const members = raft?.memberList() ?? [];
    return (
      this.joining || members.some((m) => m.nodeId === nodeId) || this.joinedMembers.some((m) => m.nodeId === nodeId)
    );
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
    // Before anything is served: a locked manager (autolock) serves only its unlock socket.
    const raftKeys = await this.unlockedRaftKeys();
    if (this.stopping) return;
    const clock = this.options.clock ?? systemClock;
    const member = !fresh && identity.raftId !== 0;
    const cert = await managerCertificate({
      dataDir: this.options.dataDir,
      nodeId: identity.nodeId,
      clusterId: identity.clusterId ?? newId(),
      member,
      ...(!member && this.options.join !== undefined
        ? { join: { addr: this.options.join, token: this.options.joinToken ?? "" } }
        : {}),
      hosts: certificateHosts([this.options.advertise ?? this.options.listen, this.options.dockerApi]),
      ...(this.options.certExpiryMs !== undefined ? { nodeCertLifetimeMs: this.options.certExpiryMs } : {}),
      logger: this.logger,
    });
    const material = cert.material;
    this.material = material;
    if (cert.founded) this.founded = { clusterId: cert.clusterId, ca: cert.founded };
    if (cert.nodeId !== identity.nodeId || cert.clusterId !== identity.clusterId) {
      // A joining manager's node id is the one the CA chose.
      await saveIdentity(this.options.dataDir, { ...identity, nodeId: cert.nodeId, clusterId: cert.clusterId });
    }
    const nodeId = cert.nodeId;
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
      nodeIdOf: (metadata) => callerOf(metadata)?.nodeId,
      leaderAddr: () => this.raftNode?.leaderAddr(),
      managers: () =>
        (this.raftNode?.memberList() ?? []).map((m) => ({
          nodeId: m.nodeId,
          addr: m.addr,
          weight: m.raftId === this.raftNode?.leaderId ? 10 : 1,
        })),
      ...(this.options.heartbeatPeriodMs !== undefined ? { heartbeatPeriodMs: this.options.heartbeatPeriodMs } : {}),
    });
    this.membership = new Membership(() => this.raftNode, material, store);
    const logger = this.options.logger;
    this.leaderParts = new LeaderComponents(
      leaderFactories({
        store,
        logger,
        clock,
        managers: () => (this.raftNode?.memberList() ?? []).map((m) => m.nodeId),
      }),
      logger,
    );

    // Serve before joining: the leader starts sending to us as soon as we are a member.
    this.server.addService(
      RaftTransportService,
      raftTransportHandlers(() => this.raftNode, this.logger),
    );
    this.server.addService(RaftMembershipService, this.membership.handlers());
    this.server.addService(
      NodeCAService,
      new NodeCaServer({
        store,
        rootCaOf: (cluster) => cluster.rootCa,
        isLeader: () => this.raftNode?.isLeader ?? false,
        leaderAddr: () => this.raftNode?.leaderAddr(),
        isRaftMember: (id) => this.isRaftMember(id),
        managerHosts: (id) =>
          certificateHosts((this.raftNode?.memberList() ?? []).filter((m) => m.nodeId === id).map((m) => m.addr)),
        certLifetimeMs: (cluster) => {
          const expiry = cluster.spec?.caConfig?.nodeCertExpiry;
          return expiry ? durationToMs(expiry, 0) || undefined : undefined;
        },
        clock,
        logger: this.options.logger,
      }).handlers(),
    );
    this.server.addService(DispatcherService, this.dispatcher.handlers());
    this.logBroker = new LogBroker({
      logger: this.options.logger,
      material,
      isLeader: () => this.raftNode?.isLeader ?? false,
      leaderAddr: () => this.raftNode?.leaderAddr(),
    });
    this.server.addService(LogsService, this.logBroker.handlers());
    // Cluster events, from this manager's own replica of the store (watched before raft applies).
    this.events = new EventLog({ store, logger, clock });
    this.events.start();
    this.server.addService(EventsService, eventsHandlers(this.events));
    this.server.addService(BackupService, backupHandlers({ store, raft: () => this.raftNode, nodeId }));
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
    await this.bind(material);
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
        this.joining = true;
        const joined = await this.joinCluster(this.options.join, nodeId, advertise, material).finally(() => {
          this.joining = false;
        });
        raftId = joined.raftId;
        knownMembers = joined.members;
        this.joinedMembers = joined.members;
      } else {
        raftId = newRaftId();
        bootstrap = true;
      }
      this.identity = { nodeId, raftId, clusterId: cert.clusterId };
      await saveIdentity(this.options.dataDir, this.identity);
    } else {
      this.identity = { ...identity, nodeId, clusterId: cert.clusterId };
    }

    const raft = new RaftNode({
      raftId,
      nodeId,
      material,
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
      dataKeys: raftKeys.keyRing(),
      onDataKeysReleased: (inUse) =>
        void raftKeys
          .released(inUse)
          .catch((err: unknown) => this.logger.error({ err: errorMessage(err) }, "could not forget old data keys")),
    });
    this.raftNode = raft;
    this.control = new ControlApi({
      nodeId,
      store,
      raft,
      material,
      clusterId: () => store.view((tx) => tx.clusters.find()[0]?.id ?? ""),
    });
    controlImpl = this.control.handlers() as grpc.UntypedServiceImplementation;
    await raft.start();
    this.raftStarted = true;
    this.autolock = new AutolockFollower({
      store,
      keys: raftKeys,
      unlockKeyOf: clusterUnlockKey,
      rotateDataKey: (key) => raft.rotateDataKey(key),
      logger: this.options.logger,
    });
    this.autolock.start();
    const renewal = nodeRenewer(
      material,
      nodeCertDir(this.options.dataDir),
      () => {
        // The leader signs: ask it first, then the others.
        const members = this.raftNode?.memberList() ?? [];
        const leader = this.raftNode?.leaderAddr();
        return [...(leader ? [leader] : []), ...members.map((m) => m.addr).filter((a) => a !== leader)];
      },
      this.options.logger,
    );
    const renewing = new AbortController();
    void renewal.renewer.run(renewing.signal);
    const caFollower = new ManagerCaFollower({
      store,
      nodeId,
      dataDir: this.options.dataDir,
      renewNow: () => renewal.renewer.renewNow(),
      trustedRootsPem: () => material.files.caPem,
      logger: this.options.logger,
    });
    caFollower.start();
    this.renewal = {
      stop: () => {
        caFollower.stop();
        renewing.abort();
        renewal.renewer.stop();
        renewal.close();
      },
    };
    if (this.options.dockerApi !== undefined) {
      this.dockerApi = new DockerApiServer({
        listen: this.options.dockerApi,
        managerAddr: this.address.replace(/^0\.0\.0\.0:/, "127.0.0.1:").replace(/^\[::\]:/, "[::1]:"),
        nodeId,
        advertise,
        material,
        refuse: (identity) => {
          const decision = store.view((tx) => {
            const cluster = tx.clusters.find()[0];
            return authorizeRule(DOCKER_API_RULE, "the Docker Engine API", identity, {
              clusterId: cluster?.id,
              rootCa: cluster?.rootCa,
              node: (id) => tx.nodes.get(id),
              isRaftMember: (id) => this.isRaftMember(id),
            });
          });
          return decision.ok ? undefined : decision.message;
        },
        logger: this.options.logger,
      });
      await this.dockerApi.start();
    }
    if (this.options.metricsAddr !== undefined) {
      this.metrics = await serveManagerMetrics(this.options.metricsAddr, {
        store,
        raft: () => this.raftNode,
        logger: this.options.logger,
        labels: { node_id: nodeId },
      });
    }
    this.logger.info({ address: this.address, advertise, nodeId, raftId: raftId.toString(16) }, "manager started");
  }

  private async bind(material: TlsMaterial): Promise<void> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(this.options.listen, serverCredentials(material), (err, bound) =>
        err
          ? reject(new ShoalError(ErrorCode.Unavailable, `cannot listen on ${this.options.listen}: ${err.message}`))
          : resolve(bound),
      ),
    );
    this.address = `${this.options.listen.slice(0, this.options.listen.lastIndexOf(":"))}:${port}`;
  }

  /** Asks the cluster at `target` to add this manager; retries while it has no leader. */
  private async joinCluster(
    target: string,
    nodeId: string,
    addr: string,
    material: TlsMaterial,
  ): Promise<JoinResponse> {
    const client = new RaftMembershipClient(target, channelCredentials(material), MANAGER_CHANNEL_OPTIONS);
    const backoff = new Backoff({ initialMs: 200, maxMs: 2000 });
    const deadline = Date.now() + 60_000;
    try {
      for (;;) {
        try {
          const res = await new Promise<JoinResponse>((resolve, reject) =>
            client.join(
              { addr, nodeId, joinToken: "" },
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

  /**
   * The leader makes sure the cluster object exists: the founding manager stores the id it chose,
   * its CA and the join tokens that pin it.
   */
  private async ensureCluster(): Promise<void> {
    const store = this.store!;
    const founded = this.founded;
    if (!founded) return;
    try {
      await store.update((tx) => {
        if (tx.clusters.find().length > 0) return;
        tx.clusters.create(
          Cluster.fromPartial({
            id: founded.clusterId,
            spec: {
              annotations: { name: "default" },
              ...(this.options.certExpiryMs !== undefined
                ? { caConfig: { nodeCertExpiry: durationFromMs(this.options.certExpiryMs) } }
                : {}),
            },
            rootJoinTokens: founded.ca.joinTokens,
            rootCa: { ...founded.ca.rootCa, clients: [adminEntry(founded.ca.admin.certChainPem)] },
          }),
        );
      });
      this.founded = undefined;
    } catch (err: unknown) {
      this.logger.debug({ err: errorMessage(err) }, "could not create the cluster object yet");
    }
  }

  /**
   * The data keys of the Raft files. When they are wrapped with the cluster's unlock key (autolock),
   * serves DATA_DIR/unlock.sock, and nothing else, until `shoal manager unlock` gives the right key.
   */
  private async unlockedRaftKeys(): Promise<RaftKeys> {
    const keys = await RaftKeys.open(this.options.dataDir, this.logger);
    if (!keys.locked) return keys;
    const socket = new UnlockSocket({
      dataDir: this.options.dataDir,
      logger: this.logger,
      unlock: (key) => Promise.resolve(keys.unlock(key)),
    });
    this.unlockSocket = socket;
    await socket.start();
    await Promise.race([socket.unlocked, new Promise<void>((resolve) => this.whenStopping.push(resolve))]);
    await socket.stop();
    return keys;
  }

  private readonly whenStopping: (() => void)[] = [];

  /** Stops serving: hands leadership over, ends agent sessions, then the server. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const resolve of this.whenStopping.splice(0)) resolve();
      await this.unlockSocket?.stop();
      this.autolock?.stop();
      this.renewal?.stop();
      await this.dockerApi?.stop();
      this.logBroker?.close();
      await this.events?.stop();
      await this.metrics?.stop();
      if (this.raftNode?.isLeader) await this.raftNode.transferLeadership().catch(() => false);
      this.dispatcher?.stop();
      await this.leaderParts?.stop();
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

/** The host parts of addresses, for the manager certificate's names (wildcards left out). */
function certificateHosts(addrs: readonly (string | undefined)[]): string[] {
  const hosts = new Set<string>(["127.0.0.1", "localhost"]);
  for (const addr of addrs) {
    if (addr === undefined) continue;
    const host = addr.slice(0, addr.lastIndexOf(":")).replace(/^\[|\]$/g, "");
    if (host !== "" && host !== "0.0.0.0" && host !== "::") hosts.add(host);
  }
  return [...hosts];
}

/** The admin client certificate's entry in root_ca.clients, so that it can be revoked by name. */
function adminEntry(certChainPem: string): RevokedCertificate {
  const identity = leafIdentity(certChainPem);
  return { serialNumber: identity.serialNumber, name: identity.nodeId, notAfter: identity.notAfter };
}
