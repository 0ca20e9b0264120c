// A manager process: Raft with its peers, the replicated store, and the gRPC services that agents
// (Dispatcher), clients (Control) and other managers (RaftTransport, RaftMembership) call.
//
// Start-up: an empty data dir without --join founds a new cluster; with --join it asks the
// cluster to add it (the leader proposes the membership change) and then learns the state from
// the leader; a data dir with state restarts from it; with --force-new-cluster it restarts from
// it as the only member (recovery of a lost quorum). Stop: a leader hands leadership over first.
//
// This file only composes: the manager is the list of components below, started in order and
// stopped in reverse (lifecycle/component-runner.ts). What the order keeps: services are
// registered before the server listens, and the Raft ones before joining (the leader sends to a
// joiner as soon as it is a member); on stop, leadership is handed over before the dispatcher and
// the leader's components stop, the Raft node stops before the store closes, and the gRPC server
// shuts down last.
import type { DataKey } from "@shoal/raft";
import { componentLogger, systemClock, type Logger, type TlsMaterial } from "@shoal/shared";
import { CertificateRenewal } from "./ca/certificate-renewal.js";
import { ClusterBootstrap } from "./ca/cluster-bootstrap.js";
import { ManagerCredentials } from "./ca/manager-credentials.js";
import { NodeCaService } from "./ca/node-ca-service.js";
import { BackupComponent } from "./backup/backup-component.js";
import { ContainersComponent } from "./containers/containers-component.js";
import { ControlGate } from "./controlapi/control-gate.js";
import { DashboardComponent } from "./dashboard/dashboard-component.js";
import { DispatcherComponent } from "./dispatcher/dispatcher-component.js";
import { DockerApiComponent } from "./dockerapi/docker-api-component.js";
import { managerSettings } from "./dockerapi/manager-settings.js";
import { Autolock } from "./encryption/autolock.js";
import { UnlockWait } from "./encryption/unlock-wait.js";
import { EventLogComponent } from "./events/event-log-component.js";
import type { ManagerIdentity } from "./identity.js";
import { stopOnly } from "./lifecycle/component.js";
import { ComponentRunner, StartAbortedError } from "./lifecycle/component-runner.js";
import { LeaderComponents } from "./lifecycle/leader-components.js";
import { LocalIdentity } from "./local-identity.js";
import { LogBrokerComponent } from "./logs/log-broker-component.js";
import type { ManagerOptions } from "./manager-options.js";
import { MetricsComponent } from "./metrics/metrics-component.js";
import type { ManagerNodesRaft } from "./nodes/manager-nodes.js";
import { leaderFactories } from "./orchestrator/leader-factories.js";
import { memberStatuses } from "./state/raft/member-statuses.js";
import { ManagerServer } from "./server/manager-server.js";
import { ServerListener } from "./server/server-listener.js";
import { LeadershipHandover } from "./state/raft/leadership-handover.js";
import { clusterSnapshotInterval } from "./state/raft/cluster-snapshot-interval.js";
import { RaftHandle } from "./state/raft/raft-handle.js";
import type { RaftNode } from "./state/raft/raft-node.js";
import { RaftServices } from "./state/raft/raft-services.js";
import { RaftStart } from "./state/raft/raft-start.js";
import { MemoryStore } from "./state/store/index.js";

export type { ManagerOptions } from "./manager-options.js";

export class Manager {
  private readonly logger: Logger;
  private readonly runner: ComponentRunner;
  private readonly raftHandle = new RaftHandle();
  private readonly credentials: ManagerCredentials;
  private readonly listener: ServerListener;
  private readonly raftStart: RaftStart;
  private readonly dockerApi: DockerApiComponent;
  private readonly metrics: MetricsComponent;
  private readonly dashboard: DashboardComponent;
  private stopping: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    const { dataDir, logger } = options;
    this.logger = componentLogger(logger, "manager");
    const clock = options.clock ?? systemClock;
    const raft = this.raftHandle;
    const store = new MemoryStore({ clock, proposer: raft.proposer() });
    const isRaftMember = (id: string): boolean => raft.isRaftMember(id);
    const server = new ManagerServer({ store, isRaftMember, logger });
    const identity = new LocalIdentity(options);
    const unlock = new UnlockWait({ dataDir, clock, logger: this.logger });
    const credentials = (this.credentials = new ManagerCredentials({
      ...options,
      identity,
      clock,
      logger: this.logger,
    }));
    const listener = (this.listener = new ServerListener({ ...options, server, credentials }));
    const { heartbeatPeriodMs, certExpiryMs } = options;
    const dispatcher = new DispatcherComponent({ server, store, raft, clock, logger, heartbeatPeriodMs });
    const managers = (): string[] => raft.members().map((m) => m.nodeId);
    const leaderRaft: ManagerNodesRaft = {
      statuses: () => memberStatuses(raft.requireNode()),
      get raftId() {
        return raft.requireNode().raftId;
      },
      removeMember: async (raftId) => {
        await raft.requireNode().changeMembership({ type: "removeNode", nodeId: raftId, context: new Uint8Array(0) });
      },
      transferLeadership: () => raft.requireNode().transferLeadership(),
    };
    const leader = new LeaderComponents(
      leaderFactories({
        store,
        logger,
        clock,
        managers,
        raft: leaderRaft,
        joinGraceMs: options.joinGraceMs,
        rebalanceCooldownMs: options.rebalanceCooldownMs,
      }),
      logger,
    );
    const addressPool = options.addressPool;
    const bootstrap = new ClusterBootstrap({ store, founding: credentials, certExpiryMs, addressPool, logger });
    const onLeadership = (isLeader: boolean): void => {
      if (isLeader) void bootstrap.ensure();
      dispatcher.setLeader(isLeader);
      void leader.setLeader(isLeader);
    };
    const started = { identity, credentials, listener, unlock };
    const snapshots = clusterSnapshotInterval(store, clock);
    this.raftStart = new RaftStart({
      ...options,
      ...started,
      handle: raft,
      stateMachine: store,
      clusterSnapshotInterval: snapshots,
      clock,
      onLeadership,
    });
    const dockerApi = options.dockerApi;
    this.dockerApi = new DockerApiComponent({
      listen: dockerApi,
      store,
      credentials,
      listener,
      isRaftMember,
      clock,
      logger,
      settings: managerSettings({ raft: options.raft, heartbeatPeriodMs }),
    });
    const isLeader = (): boolean => raft.isLeader;
    const dashboard = (this.dashboard = new DashboardComponent({
      listen: options.dashboard,
      store,
      credentials,
      listener,
      isLeader,
      clock,
      logger,
    }));
    this.metrics = new MetricsComponent({ listen: options.metricsAddr, store, raft, credentials, clock, logger });
    const rotateDataKey = (key: DataKey): Promise<void> => raft.requireNode().rotateDataKey(key);
    // Started in this order, stopped in reverse.
    this.runner = new ComponentRunner(
      [
        server,
        identity,
        unlock,
        credentials,
        stopOnly("store", () => store.close()),
        raft,
        leader,
        new RaftServices({ server, raft, credentials, logger: this.logger }),
        new NodeCaService({ server, store, raft, credentials, clock, logger }),
        dispatcher,
        new LogBrokerComponent({ server, store, credentials, raft, clock, logger }),
        new ContainersComponent({ server, store, sessions: dispatcher.dispatcher, credentials, raft, clock, logger }),
        new EventLogComponent({ server, store, clock, logger }),
        new BackupComponent({ server, store, raft, credentials, clock }),
        new ControlGate({
          server,
          raft,
          store,
          credentials,
          clock,
          imagePulls: dispatcher.dispatcher.imagePulls,
          dashboardUrl: () => dashboard.url,
        }),
        listener,
        this.raftStart,
        new LeadershipHandover(raft),
        new Autolock({ store, unlock, rotateDataKey, clock, logger }),
        new CertificateRenewal({ dataDir, store, credentials, raft, clock, logger }),
        this.dockerApi,
        this.metrics,
        dashboard,
      ],
      this.logger,
    );
  }

  /** The address the server listens on, once started ("" before). */
  get address(): string {
    return this.listener.address;
  }

  /** Who this manager is, with its raft id, once started. */
  get identity(): ManagerIdentity | undefined {
    return this.raftStart.identity;
  }

  /** The Raft node, once started. */
  get raft(): RaftNode | undefined {
    return this.raftHandle.node;
  }

  /** This manager's certificate material (for in-process clients of it), once started. */
  get tls(): TlsMaterial | undefined {
    return this.credentials.current;
  }

  /** The address the Docker Engine API is served on, once started ("" when off). */
  get dockerApiAddress(): string {
    return this.dockerApi.address;
  }

  /** The address the dashboard is served on, once started ("" when off). */
  get dashboardAddress(): string {
    return this.dashboard.address;
  }

  /** The address metrics are served on, once started ("" when off). */
  get metricsAddress(): string {
    return this.metrics.address;
  }

  /** Starts every component in order; resolves early, without error, if stop() comes first. */
  async start(): Promise<void> {
    try {
      await this.runner.start();
    } catch (err: unknown) {
      if (err instanceof StartAbortedError) return;
      throw err;
    }
    const { address } = this;
    const { nodeId, raftId } = this.identity!;
    this.logger.info(
      { address, advertise: this.listener.advertise, nodeId, raftId: raftId.toString(16) },
      "manager started",
    );
  }

  /** Stops serving: hands leadership over, ends agent sessions, then the server. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.runner.stop().then(() => this.logger.info("manager stopped"));
    return this.stopping;
  }
}
