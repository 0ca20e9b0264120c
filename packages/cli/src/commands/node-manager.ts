// The manager a promoted node runs beside its agent, in the agent's process (as a Swarm node's one
// process is both). The agent hands every node it gets on its session to onNode:
//
// - desired role manager and no manager running: the agent asks, with its own certificate, for the
//   manager's (the CA issues the role manager while the node's desired role is manager), writes it
//   to DATA_DIR/manager/certificates and starts a manager there that joins the Raft group through
//   the agent's manager, advertising the node's address (as the dispatcher saw it) and the port of
//   --manager-listen;
// - role worker, out of the Raft group, and a manager running (demoted, and removed by the leader):
//   the manager stops and its data dir goes, so that a later promotion starts afresh.
//
// At the agent's start, a manager data dir with a Raft id (promoted before) starts its manager again.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NodeRole, errorMessage, managerBesideAgent, type Logger, type Node, type TlsMaterial } from "@shoal/shared";

/** Where the manager advertised itself, for a restart. */
const ADVERTISE_FILE = "advertise";

/** What NodeManager needs of @shoal/manager (imported by the agent command, which loads it). */
export interface ManagerModule {
  readonly Manager: new (options: {
    listen: string;
    advertise?: string;
    dataDir: string;
    logger: Logger;
    join?: string;
  }) => { start(): Promise<void>; stop(): Promise<void> };
  nodeCertDir(dataDir: string): string;
}

export interface NodeManagerOptions {
  /** The agent's data dir: the manager's goes in DATA_DIR/manager. */
  readonly agentDataDir: string;
  /** The agent's certificate, to ask for the manager's. */
  readonly material: TlsMaterial;
  /** HOST:PORT the manager listens on (its advertised port is this one's). */
  readonly listen: string;
  readonly logger: Logger;
  readonly manager: ManagerModule;
  /** Gets the manager's certificate into `certDir` through manager `via`; default managerBesideAgent. */
  readonly issueCertificate?: (via: string, certDir: string) => Promise<unknown>;
}

export class NodeManager {
  private running: { stop(): Promise<void> } | undefined;
  private busy = false;

  constructor(private readonly options: NodeManagerOptions) {}

  private get dataDir(): string {
    return join(this.options.agentDataDir, "manager");
  }

  /** Starts the manager of a node promoted before (its data dir has a Raft id), where it advertised. */
  async resume(): Promise<void> {
    const identity = await readFile(join(this.dataDir, "identity.json"), "utf8").catch(() => "");
    const raftId = identity ? (JSON.parse(identity) as { raftId?: unknown }).raftId : 0;
    if (typeof raftId !== "number" || raftId === 0) return;
    const saved = await readFile(join(this.dataDir, ADVERTISE_FILE), "utf8").catch(() => "");
    // The agent runs its tasks whatever becomes of its manager: a failure is logged, not thrown.
    await this.guard(() => this.start(saved ? { advertise: saved.trim() } : {}));
  }

  /** Follows the node's role as its session shows it. */
  onNode(node: Node, manager: string): void {
    if (this.busy) return;
    const desired = node.spec?.desiredRole ?? node.role;
    // A worker (role) not in the Raft group: a manager node made at join has role manager already.
    const worker = node.role === NodeRole.WORKER && node.managerStatus === undefined;
    if (desired === NodeRole.MANAGER && worker && !this.running) {
      const host = node.status?.addr ?? "";
      if (host === "") return;
      const port = this.options.listen.slice(this.options.listen.lastIndexOf(":") + 1);
      void this.guard(() => this.promote(`${host.includes(":") ? `[${host}]` : host}:${port}`, manager));
    } else if (desired === NodeRole.WORKER && node.managerStatus === undefined && this.running) {
      void this.guard(() => this.demoted());
    }
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.stop();
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await work();
    } catch (err: unknown) {
      this.options.logger.error({ err: errorMessage(err) }, "could not follow the node's new role");
    } finally {
      this.busy = false;
    }
  }

  private async promote(advertise: string, via: string): Promise<void> {
    const { logger, material, manager } = this.options;
    logger.info({ advertise, join: via }, "promoted: starting a manager beside the agent");
    const certDir = manager.nodeCertDir(this.dataDir);
    const issue =
      this.options.issueCertificate ??
      ((at: string, dir: string) => managerBesideAgent({ managers: [at], agent: material, certDir: dir }));
    await issue(via, certDir);
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    await writeFile(join(this.dataDir, ADVERTISE_FILE), `${advertise}\n`);
    await this.start({ advertise, join: via });
  }

  private async start(where: { advertise?: string; join?: string }): Promise<void> {
    const { logger, listen, manager } = this.options;
    const m = new manager.Manager({
      listen,
      dataDir: this.dataDir,
      logger: logger.child({ role: "manager" }),
      ...(where.advertise !== undefined ? { advertise: where.advertise } : {}),
      ...(where.join !== undefined ? { join: where.join } : {}),
    });
    this.running = m;
    try {
      await m.start();
    } catch (err: unknown) {
      this.running = undefined;
      await m.stop().catch(() => undefined);
      throw err;
    }
  }

  private async demoted(): Promise<void> {
    this.options.logger.info("demoted and out of the Raft group: stopping the manager beside the agent");
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
