// iptables as the NAT rules need it: read which SHOAL-* chains exist, restore a table's rules in
// one transaction, and make sure of (or remove) the jumps from the built-in chains. Commands go
// through a CommandRunner, so that tests can run them in another network namespace.
import { spawn } from "node:child_process";
import { JUMPS, type Jump } from "./chains.js";
import { shoalChainsOf, type ExistingChains } from "./rules.js";

export interface CommandResult {
  /** The exit status; -1 when the command could not be started or was killed. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `argv` (with `input` on its standard input) to completion; never rejects on a failure. */
export type CommandRunner = (argv: readonly string[], input?: string) => Promise<CommandResult>;

export class IptablesError extends Error {
  readonly code = "IPTABLES_FAILED";

  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    super(`${argv.join(" ")} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = "IptablesError";
  }
}

const TIMEOUT_MS = 30_000;

/** Spawns each command, after `prefix` (e.g. ["nsenter", "--net=/run/netns/NAME"]). */
export function spawnRunner(prefix: readonly string[] = []): CommandRunner {
  return (argv, input) =>
    new Promise((resolve) => {
      const [file, ...args] = [...prefix, ...argv];
      const child = spawn(file ?? "", args, { stdio: ["pipe", "pipe", "pipe"], timeout: TIMEOUT_MS });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.stdin.on("error", () => undefined);
      child.stdin.end(input ?? "");
      child.on("error", (err) => resolve({ code: -1, stdout, stderr: `${stderr}${err.message}` }));
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
}

export class Iptables {
  constructor(private readonly run: CommandRunner) {}

  /** The SHOAL-* chains of both tables. */
  async existingChains(): Promise<ExistingChains> {
    const [nat, filter] = [await this.save("nat"), await this.save("filter")];
    return { nat: shoalChainsOf(nat), filter: shoalChainsOf(filter) };
  }

  /** Applies one table's iptables-restore text as one transaction, leaving other chains alone. */
  async restore(text: string): Promise<void> {
    await this.check(["iptables-restore", "-w", "--noflush"], text);
  }

  /**
   * Makes each jump the first rule of its built-in chain, once. Docker inserts its own rules at
   * the top when it makes a network (FORWARD's `-i BRIDGE ! -o BRIDGE -j ACCEPT` would let a task
   * past the isolation rules): a jump found lower is moved back up.
   */
  async ensureJumps(jumps: readonly Jump[] = JUMPS): Promise<void> {
    for (const jump of jumps) {
      const first = await this.run(["iptables", "-w", "-t", jump.table, "-S", jump.from, "1"]);
      if (first.code === 0 && first.stdout.trim() === `-A ${jump.from} -j ${jump.to}`) continue;
      await this.removeJumps([jump]);
      await this.check(jumpArgs(jump, "-I"));
    }
  }

  /** Deletes each jump, every copy of it (none is no error). */
  async removeJumps(jumps: readonly Jump[] = JUMPS): Promise<void> {
    for (const jump of jumps) {
      while ((await this.run(jumpArgs(jump, "-C"))).code === 0) await this.check(jumpArgs(jump, "-D"));
    }
  }

  private async save(table: string): Promise<string> {
    return (await this.check(["iptables-save", "-t", table])).stdout;
  }

  private async check(argv: readonly string[], input?: string): Promise<CommandResult> {
    const result = await this.run(argv, input);
    if (result.code !== 0) throw new IptablesError(argv, result);
    return result;
  }
}

function jumpArgs(jump: Jump, op: "-C" | "-I" | "-D"): string[] {
  const position = op === "-I" ? ["1"] : [];
  return ["iptables", "-w", "-t", jump.table, op, jump.from, ...position, "-j", jump.to];
}
