// An agent process: registers its host with the managers and keeps a session with them.
// Running assigned tasks comes with the scheduler (issue "Managers schedule services").
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { componentLogger, type Logger, type NodeDescription } from "@shoal/shared";
import type { Executor } from "./exec/executor.js";
import { runSession } from "./session.js";

export interface AgentOptions {
  readonly managers: readonly string[];
  readonly executor: Executor;
  readonly dataDir: string;
  readonly logger: Logger;
  /** Overrides the hostname the executor reports. */
  readonly hostname?: string;
}

interface AgentState {
  nodeId?: string;
}

export class Agent {
  private readonly logger: Logger;

  constructor(private readonly options: AgentOptions) {
    if (options.managers.length === 0) throw new RangeError("agent: at least one manager address is needed");
    this.logger = componentLogger(options.logger, "agent");
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await mkdir(this.options.dataDir, { recursive: true });
    const state = await this.loadState();
    await runSession(
      {
        managers: this.options.managers,
        logger: this.options.logger,
        ...(state.nodeId !== undefined ? { nodeId: state.nodeId } : {}),
        describe: (s) => this.describe(s),
        onSession: async (node, manager) => {
          if (node.id !== state.nodeId) {
            state.nodeId = node.id;
            await this.saveState(state);
          }
          this.logger.info({ nodeId: node.id, manager }, "registered with the cluster");
        },
      },
      signal,
    );
  }

  private async describe(signal: AbortSignal): Promise<NodeDescription> {
    const description = await this.options.executor.describe(signal);
    return this.options.hostname === undefined ? description : { ...description, hostname: this.options.hostname };
  }

  private get stateFile(): string {
    return join(this.options.dataDir, "agent-state.json");
  }

  private async loadState(): Promise<AgentState> {
    try {
      const parsed = JSON.parse(await readFile(this.stateFile, "utf8")) as AgentState;
      return typeof parsed.nodeId === "string" ? { nodeId: parsed.nodeId } : {};
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      this.logger.warn({ file: this.stateFile, err }, "unreadable agent state; starting as a new node");
      return {};
    }
  }

  private async saveState(state: AgentState): Promise<void> {
    const tmp = `${this.stateFile}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    await rename(tmp, this.stateFile);
  }
}
