// A manager process: the gRPC server that agents (Dispatcher) and clients (Control) call.
// Raft and the replicated store come with the issue "Raft"; this version keeps its state in
// memory and acts as the leader of a one-manager cluster.
import * as grpc from "@grpc/grpc-js";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ControlService,
  DispatcherService,
  ShoalError,
  ErrorCode,
  componentLogger,
  newId,
  systemClock,
  type Clock,
  type Logger,
} from "@shoal/shared";
import { controlHandlers } from "./controlapi/control-server.js";
import { Dispatcher } from "./dispatcher/dispatcher.js";
import { NodeRegistry } from "./dispatcher/node-registry.js";

export interface ManagerOptions {
  /** host:port to listen on; port 0 picks a free one. */
  readonly listen: string;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly heartbeatPeriodMs?: number;
}

interface ManagerIdentity {
  readonly nodeId: string;
  readonly clusterId: string;
}

export class Manager {
  private readonly logger: Logger;
  private readonly server = new grpc.Server();
  private dispatcher: Dispatcher | undefined;
  private stopping: Promise<void> | undefined;
  /** The address the server listens on, once started. */
  address = "";
  identity: ManagerIdentity | undefined;

  constructor(private readonly options: ManagerOptions) {
    this.logger = componentLogger(options.logger, "manager");
  }

  async start(): Promise<void> {
    const identity = await loadIdentity(this.options.dataDir);
    this.identity = identity;
    const clock = this.options.clock ?? systemClock;
    const registry = new NodeRegistry(clock, {
      onStateChange: (node, previous) =>
        this.logger.info({ nodeId: node.id, from: previous, to: node.status?.state }, "node state changed"),
    });
    this.dispatcher = new Dispatcher({
      registry,
      clock,
      logger: this.options.logger,
      ...(this.options.heartbeatPeriodMs !== undefined ? { heartbeatPeriodMs: this.options.heartbeatPeriodMs } : {}),
    });
    this.server.addService(DispatcherService, this.dispatcher.handlers());
    this.server.addService(
      ControlService,
      controlHandlers({ ...identity, registry }) as grpc.UntypedServiceImplementation,
    );
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(this.options.listen, grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err
          ? reject(new ShoalError(ErrorCode.Unavailable, `cannot listen on ${this.options.listen}: ${err.message}`))
          : resolve(bound),
      ),
    );
    this.address = `${this.options.listen.slice(0, this.options.listen.lastIndexOf(":"))}:${port}`;
    this.logger.info({ address: this.address, ...identity }, "manager listening");
  }

  /** Stops serving: ends agent sessions, then the server. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.dispatcher?.stop();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => this.server.forceShutdown(), 2000);
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

/** The manager's node id and cluster id, made on first start and kept in the data dir. */
async function loadIdentity(dataDir: string): Promise<ManagerIdentity> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, "identity.json");
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<ManagerIdentity>;
    if (typeof parsed.nodeId !== "string" || typeof parsed.clusterId !== "string") {
      throw new ShoalError(ErrorCode.DataLoss, `${file}: nodeId and clusterId must be strings`);
    }
    return { nodeId: parsed.nodeId, clusterId: parsed.clusterId };
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const identity = { nodeId: newId(), clusterId: newId() };
  await writeFile(file, `${JSON.stringify(identity)}\n`, { mode: 0o600 });
  return identity;
}
