// A multi-host test cluster: N hosts (namespace + dockerd each) on one private bridge, and a
// registry holding the base image. createHarness() builds it; dispose() removes all of it.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { cleanRun, runNamespaces, sweepStaleRuns } from "./cleanup.js";
import { runCommand } from "./command.js";
import { HarnessError } from "./errors.js";
import { Host } from "./host.js";
import { BASE_IMAGE, ensureBaseImage } from "./image.js";
import { createSwitch, netnsPath, setDropFrom } from "./network.js";
import { checkPrerequisites, type Tools } from "./prerequisites.js";
import { killNow, netnsInode, processesOfNetns } from "./processes.js";
import { REGISTRY_PORT, pushImage, startRegistry } from "./registry.js";
import { RunContext } from "./run-context.js";
import { claimRun, newRunId } from "./run-state.js";
import { leaseSubnet, releaseSubnet } from "./subnet.js";

export interface HarnessOptions {
  /** How many hosts (named h1..hN), or their names ([a-z0-9], at most 12 characters). Default 3. */
  readonly hosts?: number | readonly string[];
  /** Image on the outer dockerd to publish as the base image (built with ensureBaseImage). */
  readonly baseImage?: string;
  /** Pull the base image on every host during setup (default false). */
  readonly pullBaseImage?: boolean;
  /** Copy the run's logs here at dispose (default: $SHOAL_HARNESS_KEEP_LOGS, else none). */
  readonly keepLogsIn?: string;
}

export class Harness {
  readonly runId: string;
  /** The run's directory (hosts' data, logs, registry storage). */
  readonly dir: string;
  /** The test subnet, e.g. `10.213.7.0/24`. */
  readonly subnet: string;
  /** The harness side of the test network (initial namespace), `.1` of the subnet. */
  readonly gateway: string;
  /** `ADDR:PORT` of the run's registry (plain HTTP). */
  readonly registry: string;
  /** The base image as hosts pull it: `ADDR:PORT/shoal-base:1`. */
  readonly baseImage: string;
  readonly hosts: readonly Host[];

  readonly #run: RunContext;
  readonly #keepLogsIn: string | undefined;
  readonly #cuts = new Set<string>();
  readonly #onExit: () => void;
  #disposed: Promise<void> | undefined;

  /** @internal use createHarness() */
  constructor(run: RunContext, hosts: readonly Host[], baseImage: string, keepLogsIn: string | undefined) {
    this.#run = run;
    this.runId = run.runId;
    this.dir = run.dir;
    this.subnet = run.subnet.cidr;
    this.gateway = run.subnet.gateway;
    this.registry = run.registry;
    this.baseImage = baseImage;
    this.hosts = hosts;
    this.#keepLogsIn = keepLogsIn;
    this.#onExit = () => killRunNow(run);
    process.once("exit", this.#onExit);
  }

  /** The host with that name; throws when there is none. */
  host(name: string): Host {
    const host = this.hosts.find((h) => h.name === name);
    if (host === undefined) throw new HarnessError("INVALID_ARGUMENT", `no host named ${name}`);
    return host;
  }

  /** Publishes an image of the outer dockerd in the registry; returns the reference hosts pull. */
  pushImage(localTag: string, repository: string = localTag): Promise<string> {
    const [address, port] = this.registry.split(":");
    return pushImage(this.#run.tools, { address: address ?? "", port: Number(port) }, localTag, repository);
  }

  /** Silently drops all traffic between two hosts, both ways; other pairs are unaffected. */
  async cut(a: Host, b: Host): Promise<void> {
    const key = pairKey(a, b);
    if (this.#cuts.has(key)) return;
    await setDropFrom(this.#run.tools, this.runId, a.name, b.address, true);
    await setDropFrom(this.#run.tools, this.runId, b.name, a.address, true);
    this.#cuts.add(key);
  }

  /** Undoes cut(a, b). */
  async uncut(a: Host, b: Host): Promise<void> {
    const key = pairKey(a, b);
    if (!this.#cuts.has(key)) return;
    await setDropFrom(this.#run.tools, this.runId, a.name, b.address, false);
    await setDropFrom(this.#run.tools, this.runId, b.name, a.address, false);
    this.#cuts.delete(key);
  }

  /** Splits the hosts into groups that cannot reach each other (cut() between every cross pair). */
  async split(...groups: readonly (readonly Host[])[]): Promise<void> {
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i] ?? []) for (const b of groups[j] ?? []) await this.cut(a, b);
      }
    }
  }

  /** Heals every fault the harness made: partitions, loss, delay and cuts. */
  async healAll(): Promise<void> {
    for (const host of this.hosts) {
      if (host.partitioned) await host.heal();
      if (host.loss > 0) await host.setLoss(0);
      if (host.delay.delayMs > 0 || host.delay.jitterMs > 0) await host.setDelay(0);
    }
    for (const key of [...this.#cuts]) {
      const [a, b] = key.split("|");
      await this.uncut(this.host(a ?? ""), this.host(b ?? ""));
    }
  }

  /**
   * Removes everything of the run. Idempotent; throws (after trying every step) if something
   * could not be removed.
   */
  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      process.removeListener("exit", this.#onExit);
      await this.#run.closeLinkDelayer().catch(() => undefined); // cleanRun kills it otherwise
      const problems = await cleanRun(this.#run.tools, this.runId, keepLogs(this.#keepLogsIn, this.runId));
      if (problems.length > 0) {
        throw new HarnessError(
          "COMMAND_FAILED",
          `harness ${this.runId} left things behind:\n  ${problems.join("\n  ")}`,
        );
      }
    })();
    return this.#disposed;
  }
}

/** Builds a harness: checks prerequisites, sweeps crashed runs, then starts hosts and registry. */
export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const tools = checkPrerequisites();
  await checkOuterDocker(tools);
  const names = hostNames(options.hosts ?? 3);
  const sweep = await sweepStaleRuns(tools);
  if (sweep.problems.length > 0) {
    throw new HarnessError("COMMAND_FAILED", `cannot clean earlier runs:\n  ${sweep.problems.join("\n  ")}`);
  }

  const runId = newRunId();
  const dir = await claimRun(runId);
  try {
    const net = await leaseSubnet(tools.ip, runId);
    const run = new RunContext(runId, dir, tools, net, `${net.gateway}:${REGISTRY_PORT}`);
    const imageBuilt = ensureBaseImage(undefined, options.baseImage ?? BASE_IMAGE);
    imageBuilt.catch(() => undefined); // settled below; no unhandled rejection meanwhile
    await createSwitch(tools, runId, net);
    const registryDir = join(dir, "registry");
    await mkdir(registryDir, { recursive: true });
    const registryRef = await startRegistry({ tools, dir: registryDir, address: net.gateway, port: REGISTRY_PORT });
    run.track(registryRef, "registry");
    const hosts: Host[] = [];
    for (const [index, name] of names.entries()) hosts.push(await Host.create(run, name, index));
    // Settle every start before failing, so that cleanup never races a dockerd still starting.
    const started = await Promise.allSettled([imageBuilt, ...hosts.map((h) => h.startDocker())]);
    for (const result of started) if (result.status === "rejected") throw result.reason;
    const baseTag = await imageBuilt;
    const baseImage = await pushImage(tools, { address: net.gateway, port: REGISTRY_PORT }, baseTag);
    if (options.pullBaseImage === true) await Promise.all(hosts.map((h) => h.docker(["pull", "--quiet", baseImage])));
    return new Harness(run, hosts, baseImage, options.keepLogsIn ?? process.env["SHOAL_HARNESS_KEEP_LOGS"]);
  } catch (err: unknown) {
    const problems = await cleanRun(tools, runId);
    releaseSubnet(runId);
    if (problems.length > 0) {
      throw new HarnessError("COMMAND_FAILED", `harness setup failed, and cleanup left: ${problems.join("; ")}`, {
        cause: err,
      });
    }
    throw err;
  }
}

function hostNames(hosts: number | readonly string[]): string[] {
  const names = typeof hosts === "number" ? Array.from({ length: hosts }, (_, i) => `h${i + 1}`) : [...hosts];
  if (names.length === 0 || names.length > 200) throw new HarnessError("INVALID_ARGUMENT", "between 1 and 200 hosts");
  for (const name of names) {
    if (!/^[a-z0-9]{1,12}$/.test(name) || name === "sw") {
      throw new HarnessError(
        "INVALID_ARGUMENT",
        `host name ${JSON.stringify(name)}: use [a-z0-9], 1 to 12 characters, not "sw"`,
      );
    }
  }
  if (new Set(names).size !== names.length) throw new HarnessError("INVALID_ARGUMENT", "host names must differ");
  return names;
}

async function checkOuterDocker(tools: Tools): Promise<void> {
  const res = await runCommand(tools.docker, ["version", "--format", "{{.Server.Version}}"], {
    check: false,
    timeoutMs: 15_000,
  });
  if (res.exitCode !== 0) {
    throw new HarnessError(
      "PREREQUISITE_MISSING",
      `no Docker daemon answers on the default socket (needed to build the base image): start dockerd (Debian package docker.io). ${res.stderr.trim()}`,
    );
  }
}

function keepLogs(option: string | undefined, runId: string): { keepLogsIn?: string } {
  return option === undefined || option === "" ? {} : { keepLogsIn: join(option, runId) };
}

function pairKey(a: Host, b: Host): string {
  return [a.name, b.name].sort().join("|");
}

/** Process exit: nothing async can run, so SIGKILL what the run started; the next run sweeps the rest. */
function killRunNow(run: RunContext): void {
  const inodes = new Set(
    runNamespaces(run.runId)
      .map((ns) => netnsInode(netnsPath(ns)))
      .filter((i) => i !== undefined),
  );
  killNow([...run.liveProcesses(), ...processesOfNetns(inodes)]);
}
