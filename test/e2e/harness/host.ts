// One test host: a network namespace on the run's bridge with its own address and dockerd, and
// the processes the test starts in it. Faults: kill (the machine dies), partition/heal (its
// cable is pulled), and dockerd restarts.
import { join } from "node:path";
import { mkdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { runCommand, type CommandOptions, type CommandResult } from "./command.js";
import { HarnessError } from "./errors.js";
import { dockerdPaths, startDockerd, type RunningDockerd } from "./dockerd.js";
import { HostProcess, type SpawnOptions } from "./host-process.js";
import { NO_DELAY, type LinkDelay } from "./link-delay.js";
import { createHostNetwork, netnsPath, setHostLink, setPortLoss } from "./network.js";
import { isAlive, killAndWait, netnsInode, processesOfNetns, type ProcessRef } from "./processes.js";
import type { RunContext } from "./run-context.js";
import { netnsName } from "./run-state.js";

export class Host {
  /** Short name given at creation (`h1`, `m1`, ...). */
  readonly name: string;
  /** 0-based position in the harness. */
  readonly index: number;
  /** IPv4 address on the test network. */
  readonly address: string;
  /** Name of the network namespace, under /run/netns. */
  readonly netns: string;
  readonly netnsPath: string;
  /** The host's directory: dockerd data and exec roots, socket, logs. */
  readonly dir: string;
  /** Path of the host's dockerd socket. */
  readonly dockerSocket: string;
  /** `unix://<dockerSocket>`, for DOCKER_HOST or `docker -H`. */
  readonly dockerHost: string;
  /** Default log file of the processes started with spawn(). */
  readonly logFile: string;
  readonly dockerdLogFile: string;

  readonly #run: RunContext;
  #dockerd: RunningDockerd | undefined;
  #partitioned = false;
  #loss = 0;
  #delay: LinkDelay = NO_DELAY;

  /** Use Harness, which creates hosts; this only runs the steps. */
  static async create(run: RunContext, name: string, index: number): Promise<Host> {
    const host = new Host(run, name, index);
    await mkdir(host.dir, { recursive: true });
    await createHostNetwork(run.tools, run.runId, name, host.address);
    return host;
  }

  private constructor(run: RunContext, name: string, index: number) {
    this.#run = run;
    this.name = name;
    this.index = index;
    this.address = run.subnet.hostAddress(index);
    this.netns = netnsName(run.runId, name);
    this.netnsPath = netnsPath(this.netns);
    this.dir = join(run.dir, name);
    this.dockerSocket = dockerdPaths(this.dir).socket;
    this.dockerHost = `unix://${this.dockerSocket}`;
    this.logFile = join(this.dir, "host.log");
    this.dockerdLogFile = dockerdPaths(this.dir).logFile;
  }

  /** True while the host's dockerd process is alive. */
  get dockerdRunning(): boolean {
    return this.#dockerd !== undefined && isAlive(this.#dockerd.ref);
  }

  /** Pid of the dockerd (while running). */
  get dockerdPid(): number | undefined {
    return this.dockerdRunning ? this.#dockerd?.ref.pid : undefined;
  }

  get partitioned(): boolean {
    return this.#partitioned;
  }

  /** Runs a command to completion inside the host's namespace (throws on failure unless check: false). */
  exec(command: string, args: readonly string[] = [], options: CommandOptions = {}): Promise<CommandResult> {
    return runCommand(this.#run.tools.nsenter, [`--net=${this.netnsPath}`, "--", command, ...args], options);
  }

  /** Starts a long-running process inside the host; its output is appended to `logFile`. */
  spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): HostProcess {
    const proc = HostProcess.start(
      this.#run.tools.nsenter,
      this.netnsPath,
      command,
      args,
      options.logFile ?? this.logFile,
      options,
    );
    this.#run.track(proc.ref, `${this.name}:${command}`);
    return proc;
  }

  /** Runs the docker CLI against this host's dockerd. */
  docker(args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
    return runCommand(this.#run.tools.docker, ["-H", this.dockerHost, ...args], options);
  }

  /** Starts the host's dockerd (again, after kill() or stopDocker()); no-op while it runs. */
  async startDocker(): Promise<void> {
    if (this.dockerdRunning) return;
    const run = this.#run;
    this.#dockerd = await startDockerd({
      tools: run.tools,
      netns: this.netns,
      dir: this.dir,
      insecureRegistry: run.registry,
      cgroupParent: this.netns,
    });
    run.track(this.#dockerd.ref, `${this.name}:dockerd`);
  }

  /** Stops the dockerd gracefully (SIGTERM; SIGKILL after `graceMs`). Containers stop with it. */
  async stopDocker(graceMs = 15_000): Promise<void> {
    const dockerd = this.#dockerd;
    if (dockerd === undefined || !isAlive(dockerd.ref)) return;
    dockerd.child.kill("SIGTERM");
    try {
      await waitDead(dockerd.ref, graceMs);
    } catch {
      await killAndWait([dockerd.ref], "SIGKILL");
    }
  }

  async restartDocker(): Promise<void> {
    await this.stopDocker();
    await this.startDocker();
  }

  /** Every live process of the host: in its namespace, and their descendants (containers). */
  processes(): ProcessRef[] {
    const inode = netnsInode(this.netnsPath);
    return inode === undefined ? [] : processesOfNetns(new Set([inode]));
  }

  /**
   * The host dies: SIGKILL to every process in it (dockerd, containerd, shims, containers, what
   * spawn() started), until none is left. Its disk (data root) stays; startDocker() boots it.
   */
  async kill(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const victims = this.processes();
      if (victims.length === 0) return;
      await killAndWait(victims, "SIGKILL");
    }
    throw new HarnessError("TIMEOUT", `host ${this.name}: processes keep appearing after SIGKILL`);
  }

  /** Cuts the host off the network, both ways, silently (its switch port goes down). */
  async partition(): Promise<void> {
    await setHostLink(this.#run.tools, this.#run.runId, this.name, false);
    this.#partitioned = true;
  }

  /** Undoes partition(). */
  async heal(): Promise<void> {
    await setHostLink(this.#run.tools, this.#run.runId, this.name, true);
    // Neighbours the host failed to resolve while cut off would otherwise stay "failed" for a
    // while: forget them so traffic resumes at once.
    await runCommand(this.#run.tools.ip, ["-n", this.netns, "neigh", "flush", "all"], { timeoutMs: 10_000 });
    this.#partitioned = false;
  }

  /** Probability that each packet to or from the host is lost (0 to 1). */
  get loss(): number {
    return this.#loss;
  }

  /** Makes the host's link lossy: each packet in or out is dropped with `probability`; 0 ends it. */
  async setLoss(probability: number): Promise<void> {
    if (!(probability >= 0 && probability <= 1)) {
      throw new HarnessError("INVALID_ARGUMENT", `loss probability ${probability}: expected 0 to 1`);
    }
    const rounded = Math.round(probability * 10_000) / 10_000;
    if (rounded === this.#loss) return;
    await setPortLoss(this.#run.tools, this.#run.runId, this.name, rounded, this.#loss);
    this.#loss = rounded;
  }

  /** The delay on the host's cable (see setDelay). */
  get delay(): LinkDelay {
    return this.#delay;
  }

  /**
   * Makes the host's link slow: every frame to or from the host waits `delayMs` (± a uniform
   * `jitterMs`) on its cable, each way; a frame between two delayed hosts waits for both cables.
   * Frames between two hosts keep their order. 0 ends it. Stands in for netem delay, which this
   * kernel lacks: an NFQUEUE listener in the switch holds the frames (see link-delay.ts).
   */
  async setDelay(delayMs: number, jitterMs = 0): Promise<void> {
    for (const [name, v] of [
      ["delay", delayMs],
      ["jitter", jitterMs],
    ] as const) {
      if (!(Number.isFinite(v) && v >= 0 && v <= 60_000)) {
        throw new HarnessError("INVALID_ARGUMENT", `${name} ${v} ms: expected 0 to 60000`);
      }
    }
    const next = { delayMs, jitterMs };
    if (next.delayMs === this.#delay.delayMs && next.jitterMs === this.#delay.jitterMs) return;
    const delayer = await this.#run.linkDelayer();
    await delayer.set(this.name, next, this.#delay);
    this.#delay = next;
  }
}

async function waitDead(ref: ProcessRef, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(ref)) {
    if (Date.now() > deadline) throw new HarnessError("TIMEOUT", `pid ${ref.pid} still alive`);
    await sleep(50);
  }
}
