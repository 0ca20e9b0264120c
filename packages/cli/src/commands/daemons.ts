// shoal manager | agent: the long-running processes. They stop cleanly on SIGINT or SIGTERM.
import type { Command } from "commander";
import { parseDuration } from "../output/duration.js";
import { collect, keyValues } from "./service-spec.js";
import { collectGenericResource } from "./generic-resource-flags.js";
import { parseDataPathAddr } from "./data-path-addr.js";
import { NodeManager } from "./node-manager.js";
import { registerManagerUnlockCommand } from "./unlock.js";
import {
  InvalidArgumentError,
  createLogger,
  isLogLevel,
  parseGenericResources,
  systemClock,
  type LogLevel,
  type Logger,
} from "@shoal/shared";

interface DaemonFlags {
  logLevel: string;
}

function daemonLogger(flags: DaemonFlags, role: string): Logger {
  if (!isLogLevel(flags.logLevel)) {
    throw new InvalidArgumentError(`unknown log level "${flags.logLevel}"`, { field: "--log-level" });
  }
  return createLogger({ level: flags.logLevel as LogLevel, base: { role, pid: process.pid } });
}

/** Resolves when the process is asked to stop. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve(sig));
  });
}

export function parseAddress(value: string, flag: string): string {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  if (!match || Number(match[2]) > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a HOST:PORT address`, { field: flag });
  }
  return value;
}

export function registerDaemonCommands(program: Command): void {
  const manager = program
    .command("manager")
    .description("run a manager: keeps the cluster state and serves agents and clients")
    // Not a required option: `shoal manager unlock` is a subcommand, which commander would refuse.
    .option("--data-dir <dir>", "where the manager keeps its state (required)")
    .option("--listen <addr>", "HOST:PORT for agents, clients and other managers", "0.0.0.0:4242")
    .option("--advertise <addr>", "HOST:PORT the others reach this manager on (default: --listen)")
    .option("--join <addr>", "HOST:PORT of a manager of the cluster to join (with an empty data dir)")
    .option(
      "--token <token>",
      "the cluster's manager join token, to --join (shoal cluster join-token manager)",
      process.env["SHOAL_JOIN_TOKEN"],
    )
    .option(
      "--force-new-cluster",
      "recover from a lost quorum: restart from --data-dir as the only manager, keeping every service, " +
        "node and join token; the other managers are removed (their messages are refused) and " +
        "new ones can --join again. Once only: restarting with it again removes managers joined since",
    )
    .option(
      "--restore <file>",
      "with --force-new-cluster and a new --data-dir: start a new one-manager cluster from a backup " +
        "(shoal cluster backup); the file is checked whole first, and nothing starts if it is damaged",
    )
    .option("--docker-api <addr>", "HOST:PORT to serve the Docker Engine API on, for the docker CLI (default: off)")
    .option("--dashboard <addr>", "HOST:PORT to serve the web dashboard on, over HTTPS (default: off)")
    .option("--metrics-addr <addr>", "HOST:PORT to serve Prometheus metrics on, at /metrics (default: off)")
    .option(
      "--cert-expiry <duration>",
      "lifetime of node certificates in a cluster founded now (e.g. 90d, 12h, 2m; at least 1m); nodes renew " +
        "at 50-80% of it (default 90d; shoal cluster update --cert-expiry changes it later)",
    )
    .option(
      "--default-addr-pool <cidr>",
      "in a cluster founded now: a pool networks' subnets come from (repeatable; default 10.0.0.0/8)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--default-addr-pool-mask-length <n>",
      "in a cluster founded now: the prefix length of networks' subnets taken from the pools (default 24)",
    )
    .option(
      "--join-grace <duration>",
      "while this manager leads: how long a node that joined may take to show up (its first session, or a " +
        "manager's raft join) before it is removed as a join that did not complete (e.g. 30s, 1h; default 10m)",
    )
    .option(
      "--rebalance-cooldown <duration>",
      "services with --rebalance auto move tasks onto a node once it has stayed ready this long, and at " +
        "most once per this window (e.g. 30s, 2m; default 30s)",
    )
    .option("--log-level <level>", "fatal, error, warn, info, debug or trace", "info")
    .option("--unsafe-no-fsync", "do not fsync the raft log (loses data on power failure; for tests only)")
    .action(
      async (
        opts: DaemonFlags & {
          joinGrace?: string;
          rebalanceCooldown?: string;
          dataDir: string;
          listen: string;
          advertise?: string;
          join?: string;
          token?: string;
          dockerApi?: string;
          dashboard?: string;
          metricsAddr?: string;
          certExpiry?: string;
          defaultAddrPool: string[];
          defaultAddrPoolMaskLength?: string;
          restore?: string;
          forceNewCluster?: boolean;
          unsafeNoFsync?: boolean;
        },
      ) => {
        if (!opts.dataDir) {
          throw new InvalidArgumentError("required option '--data-dir <dir>' not specified", { field: "--data-dir" });
        }
        const { Manager, loadIdentity, restoreBackup } = await import("@shoal/manager");
        if (opts.restore !== undefined) {
          if (!opts.forceNewCluster) {
            throw new InvalidArgumentError("--restore goes with --force-new-cluster", { field: "--restore" });
          }
          await restoreBackup({
            file: opts.restore,
            dataDir: opts.dataDir,
            addr: opts.advertise ?? opts.listen,
            clock: systemClock,
            logger: daemonLogger(opts, "manager"),
            ...(opts.unsafeNoFsync ? { sync: false } : {}),
          });
        }
        // Every line carries the node id: read (or made) before anything logs.
        const { identity } = await loadIdentity(opts.dataDir);
        const logger = daemonLogger(opts, "manager").child({ nodeId: identity.nodeId });
        const manager = new Manager({
          listen: parseAddress(opts.listen, "--listen"),
          dataDir: opts.dataDir,
          logger,
          ...(opts.advertise !== undefined ? { advertise: parseAddress(opts.advertise, "--advertise") } : {}),
          ...(opts.join !== undefined ? { join: parseAddress(opts.join, "--join") } : {}),
          ...(opts.token !== undefined ? { joinToken: opts.token } : {}),
          ...(opts.dockerApi !== undefined ? { dockerApi: parseAddress(opts.dockerApi, "--docker-api") } : {}),
          ...(opts.dashboard !== undefined ? { dashboard: parseAddress(opts.dashboard, "--dashboard") } : {}),
          ...(opts.metricsAddr !== undefined ? { metricsAddr: parseAddress(opts.metricsAddr, "--metrics-addr") } : {}),
          ...(opts.forceNewCluster ? { forceNewCluster: true } : {}),
          ...(opts.certExpiry !== undefined ? { certExpiryMs: certExpiryMs(opts.certExpiry, "--cert-expiry") } : {}),
          ...addressPoolOption(opts),
          ...(opts.unsafeNoFsync ? { raft: { sync: false } } : {}),
          ...(opts.joinGrace !== undefined ? { joinGraceMs: joinGraceMs(opts.joinGrace) } : {}),
          ...(opts.rebalanceCooldown !== undefined
            ? { rebalanceCooldownMs: parseDuration(opts.rebalanceCooldown, "--rebalance-cooldown") }
            : {}),
        });
        await manager.start();
        const sig = await untilSignal();
        logger.info({ signal: sig }, "stopping");
        await manager.stop();
        // Stopped cleanly: leave now rather than wait for idle client channels to time out.
        process.exit(0);
      },
    );
  registerManagerUnlockCommand(manager);

  program
    .command("agent")
    .description("run an agent: runs the tasks assigned to this host on its Docker daemon")
    .requiredOption("--manager <addrs>", "manager addresses, HOST:PORT[,HOST:PORT...]")
    .requiredOption("--data-dir <dir>", "where the agent keeps its state")
    .option("--docker-host <url>", "Docker daemon: unix:///path or tcp://host:port", process.env["DOCKER_HOST"])
    .option("--hostname <name>", "the node's name (default: the Docker host's name)")
    .option(
      "--token <token>",
      "the cluster's worker join token, needed at the first start only (shoal cluster join-token worker)",
      process.env["SHOAL_JOIN_TOKEN"],
    )
    .option(
      "--manager-cert-dir <dir>",
      "the certificates folder of the manager on this host (its DATA_DIR/certificates): run as that manager's node, no token needed",
    )
    .option(
      "--manager-listen <addr>",
      "where the manager this agent starts beside it once its node is promoted listens (it advertises the " +
        "node's address with this port)",
      "0.0.0.0:4242",
    )
    .option(
      "--label <k=v>",
      "engine label of this node, for constraints as engine.labels.KEY (repeatable)",
      collect,
      [],
    )
    .option(
      "--generic-resource <kind=value>",
      "a resource this node advertises, as dockerd's --node-generic-resource: gpu=GPU-1a2b (a named unit; " +
        "one flag per unit) or gpu=2 (a count) (repeatable)",
      collectGenericResource,
      [],
    )
    .option("--log-level <level>", "fatal, error, warn, info, debug or trace", "info")
    .option("--metrics-addr <addr>", "HOST:PORT to serve Prometheus metrics on, at /metrics (default: off)")
    .option(
      "--data-path-addr <ip>",
      "the IPv4 address other nodes send this node's overlay network traffic to (default: the address its " +
        "manager session comes from)",
      parseDataPathAddr,
    )
    .option(
      "--secrets-dir <dir>",
      "memory-backed directory for the files of secrets and configs; a tmpfs is mounted on it when it is " +
        "not one (default: /run/shoal/NODE_ID; not root: $XDG_RUNTIME_DIR/shoal/NODE_ID)",
    )
    .action(
      async (
        opts: DaemonFlags & {
          genericResource: string[];
          metricsAddr?: string;
          dataPathAddr?: string;
          secretsDir?: string;
          manager: string;
          dataDir: string;
          dockerHost?: string;
          hostname?: string;
          token?: string;
          managerCertDir?: string;
          managerListen: string;
          label: string[];
        },
      ) => {
        const managers = opts.manager.split(",").map((m) => parseAddress(m.trim(), "--manager"));
        const { Agent, AgentMetrics, DockerExecutor, DockerLogSource, MetricsServer, agentCertificate } =
          await import("@shoal/agent");
        // The node id is the certificate's: the cluster's CA chose it when this agent joined.
        const material = await agentCertificate({
          dataDir: opts.dataDir,
          managers,
          ...(opts.token !== undefined ? { token: opts.token } : {}),
          ...(opts.managerCertDir !== undefined ? { managerCertDir: opts.managerCertDir } : {}),
          logger: daemonLogger(opts, "agent"),
        });
        const nodeId = material.identity.nodeId;
        const logger = daemonLogger(opts, "agent").child({ nodeId });
        // Secrets and configs become files in memory-backed storage only (a tmpfs), one dir per node.
        const { TaskFiles, defaultSecretsDir } = await import("@shoal/agent");
        const files = await TaskFiles.open({ dir: opts.secretsDir ?? defaultSecretsDir(nodeId), logger });
        // Containers are this node's by label: agents may share one Docker daemon (shoal up).
        const executor = new DockerExecutor({
          logger,
          nodeId,
          files,
          ...(opts.dockerHost !== undefined ? { host: opts.dockerHost } : {}),
        });
        const metrics = opts.metricsAddr !== undefined ? new AgentMetrics({ node_id: nodeId }) : undefined;
        const metricsServer =
          metrics && new MetricsServer(metrics.registry, parseAddress(opts.metricsAddr!, "--metrics-addr"), logger);
        await metricsServer?.start();
        // A promoted node runs its manager in this process; an agent beside a manager has its own.
        const nodeManager =
          opts.managerCertDir === undefined
            ? new NodeManager({
                agentDataDir: opts.dataDir,
                material,
                listen: parseAddress(opts.managerListen, "--manager-listen"),
                logger,
                manager: await import("@shoal/manager"),
              })
            : undefined;
        await nodeManager?.resume();
        const agent = new Agent({
          managers,
          ...(metrics ? { metrics } : {}),
          executor,
          logs: new DockerLogSource({
            logger,
            nodeId,
            ...(opts.dockerHost !== undefined ? { host: opts.dockerHost } : {}),
          }),
          dataDir: opts.dataDir,
          logger,
          material,
          ...(opts.hostname !== undefined ? { hostname: opts.hostname } : {}),
          labels: keyValues(opts.label, "--label"),
          genericResources: parseGenericResources(opts.genericResource, "--generic-resource"),
          ...(opts.dataPathAddr !== undefined ? { dataPathAddr: opts.dataPathAddr } : {}),
          ...(nodeManager ? { onNode: (node, at) => nodeManager.onNode(node, at) } : {}),
        });
        const stop = new AbortController();
        const running = agent.run(stop.signal);
        const sig = await Promise.race([untilSignal(), running.then(() => undefined)]);
        logger.info({ signal: sig }, "stopping");
        stop.abort();
        await running;
        await nodeManager?.stop();
        await metricsServer?.stop();
        await executor.close();
        await files.close();
        process.exit(0);
      },
    );
}

/** --default-addr-pool and --default-addr-pool-mask-length, for the founding manager only. */
export function addressPoolOption(opts: {
  join?: string | undefined;
  defaultAddrPool: readonly string[];
  defaultAddrPoolMaskLength?: string | undefined;
}): { addressPool?: { pools: string[]; subnetSize: number } } {
  const mask = opts.defaultAddrPoolMaskLength;
  if (opts.defaultAddrPool.length === 0 && mask === undefined) return {};
  const field = opts.defaultAddrPool.length > 0 ? "--default-addr-pool" : "--default-addr-pool-mask-length";
  if (opts.join !== undefined) {
    throw new InvalidArgumentError("is for the manager that founds a cluster, not one that joins", { field });
  }
  if (mask !== undefined && !/^\d{1,2}$/.test(mask)) {
    throw new InvalidArgumentError(`"${mask}" is not a prefix length`, { field: "--default-addr-pool-mask-length" });
  }
  return { addressPool: { pools: [...opts.defaultAddrPool], subnetSize: mask === undefined ? 0 : Number(mask) } };
}

/** --join-grace: a duration over 0 ("30s", "10m"). */
function joinGraceMs(value: string): number {
  const ms = parseDuration(value, "--join-grace");
  if (!(ms > 0))
    throw new InvalidArgumentError(`"${value}" is not a duration over 0 (e.g. 30s, 10m)`, { field: "--join-grace" });
  return ms;
}

/** A duration flag for certificate lifetimes: 90d, 12h, 30m, 45s; at least a minute. */
export function certExpiryMs(value: string, flag: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const ms = match ? Number(match[1]) * unit[match[2] as keyof typeof unit] : NaN;
  if (!Number.isFinite(ms) || ms < 60_000) {
    throw new InvalidArgumentError(`"${value}" is not a lifetime of at least 1m (e.g. 90d, 12h, 2m)`, { field: flag });
  }
  return ms;
}
