// Link delay without netem. This kernel has neither sch_netem nor sch_fq (so neither `tc netem
// delay` nor EDT timestamps with BPF), but it has NFQUEUE: frames can be handed to a userspace
// listener and let go later. link-delay.py is that listener; it runs in the run's switch
// namespace, started on the first setDelay() and stopped at dispose. For each delayed host, two
// iptables rules in the switch's FORWARD chain (physdev-in and physdev-out of its port) queue
// the host's frames; the listener holds each frame for the delay of its ingress port plus that
// of its egress port (each with its own jitter), so a delay is a property of a host's cable:
//
//   one-way latency a -> b  = delay(a) + delay(b)      (the harness side, .1, has none)
//   round trip a <-> b      = 2 x (delay(a) + delay(b))
//
// Frames between the same two ports stay in order (jitter never reorders them). Limits:
// - only IPv4 frames are delayed (they are what crosses iptables; ARP and IPv6 are not);
// - one netlink message per frame: fine for control traffic and moderate transfers, not for
//   line-rate benchmarks; beyond 20 000 frames held at once, more frames pass undelayed
//   (fail-open) rather than being dropped;
// - the loss rules of setLoss() are inserted ahead of the delay rules, so a frame is dropped
//   first or delayed, as with netem's loss and delay together;
// - needs python3 (the Debian package; only its standard library is used).
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { runCommand } from "./command.js";
import { HarnessError } from "./errors.js";
import { netnsPath, switchNetns, switchPort } from "./network.js";
import { processRef } from "./processes.js";
import type { Tools } from "./prerequisites.js";
import type { ProcessRef } from "./processes.js";

const SCRIPT = fileURLToPath(new URL("./link-delay.py", import.meta.url));
const QUEUE = 7;

export interface LinkDelay {
  /** Added to every frame crossing the host's cable, each way, in ms. */
  readonly delayMs: number;
  /** Each crossing gets delayMs ± a uniform jitterMs (never below 0). */
  readonly jitterMs: number;
}

export const NO_DELAY: LinkDelay = { delayMs: 0, jitterMs: 0 };

/** What the listener needs of the run (a LinkDelayRun). */
export interface LinkDelayRun {
  readonly runId: string;
  readonly tools: Tools;
  track(ref: ProcessRef, label: string): void;
}

/** The NFQUEUE listener of a run, with a line-based control channel on its stdin and stdout. */
export class LinkDelayer {
  readonly #run: LinkDelayRun;
  readonly #child: ChildProcess;
  readonly #lines: Interface;
  readonly #answers: ((line: string) => void)[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #closed: Promise<void> | undefined;

  private constructor(run: LinkDelayRun, child: ChildProcess) {
    this.#run = run;
    this.#child = child;
    this.#lines = createInterface({ input: child.stdout! });
    this.#lines.on("line", (line) => this.#answers.shift()?.(line));
  }

  /** Starts the listener in the switch namespace; resolves once it is bound to its queue. */
  static async start(run: LinkDelayRun): Promise<LinkDelayer> {
    const python = findPython();
    const child = spawn(
      run.tools.nsenter,
      [`--net=${netnsPath(switchNetns(run.runId))}`, "--", python, SCRIPT, String(QUEUE), "1"],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on("error", () => undefined); // reported below through the first answer
    const ref = child.pid === undefined ? undefined : processRef(child.pid);
    if (ref !== undefined) run.track(ref, "sw:link-delay");
    const delayer = new LinkDelayer(run, child);
    const ready = await Promise.race([
      delayer.#next(),
      new Promise<string>((resolve) => child.once("exit", () => resolve("exited"))),
      new Promise<string>((resolve) => setTimeout(() => resolve("timed out"), 10_000).unref()),
    ]);
    if (ready !== "ready") {
      child.kill("SIGKILL");
      throw new HarnessError("COMMAND_FAILED", `the link delay listener did not start (${ready}): ${stderr.trim()}`);
    }
    return delayer;
  }

  /** Sets the delay of a host's cable (0, 0 ends it): the listener first, then the queue rules. */
  set(host: string, delay: LinkDelay, previous: LinkDelay): Promise<void> {
    const op = this.#chain.then(async () => {
      const on = delay.delayMs > 0 || delay.jitterMs > 0;
      const wasOn = previous.delayMs > 0 || previous.jitterMs > 0;
      if (on) await this.#command(`set ${switchPort(host)} ${delay.delayMs} ${delay.jitterMs}`);
      if (on !== wasOn) await setQueueRules(this.#run, host, on);
      if (!on) await this.#command(`set ${switchPort(host)} 0 0`);
    });
    this.#chain = op.catch(() => undefined);
    return op;
  }

  /** Lets every held frame go and stops the listener (its stdin closes). Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#chain;
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
      this.#child.stdin!.end();
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
      this.#lines.close();
    })();
    return this.#closed;
  }

  #next(): Promise<string> {
    return new Promise((resolve) => this.#answers.push(resolve));
  }

  async #command(line: string): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
      throw new HarnessError("COMMAND_FAILED", "the link delay listener has exited");
    }
    const answer = this.#next();
    this.#child.stdin!.write(`${line}\n`);
    const text = await answer;
    if (text !== "ok") throw new HarnessError("COMMAND_FAILED", `link delay "${line}": ${text}`);
  }
}

/** Adds or removes the two rules that queue a host's frames (ingress and egress of its port). */
async function setQueueRules(run: LinkDelayRun, host: string, on: boolean): Promise<void> {
  const sw = `--net=${netnsPath(switchNetns(run.runId))}`;
  for (const dir of ["--physdev-in", "--physdev-out"]) {
    const rule = ["FORWARD", "-m", "physdev", dir, switchPort(host), "-j", "NFQUEUE", "--queue-num", String(QUEUE)];
    // --queue-bypass: should the listener be gone, frames pass instead of being dropped.
    await runCommand(run.tools.nsenter, [sw, run.tools.iptables, "-w", on ? "-A" : "-D", ...rule, "--queue-bypass"]);
  }
}

/** Debian's python3 first (a stable interpreter), then whatever PATH has. */
function findPython(): string {
  const dirs = ["/usr/bin", "/bin", ...(process.env["PATH"] ?? "").split(":").filter((d) => d !== "")];
  for (const dir of dirs) {
    const candidate = join(dir, "python3");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new HarnessError(
    "PREREQUISITE_MISSING",
    "link delay needs python3 (install the Debian package python3); this kernel has no netem",
  );
}
