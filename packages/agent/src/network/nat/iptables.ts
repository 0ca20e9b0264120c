// iptables as the NAT rules need it: read which SHOAL-* chains exist, restore a table's rules in
// one transaction, and make sure of (or remove) the jumps from the built-in chains. Commands go
// through a CommandRunner, so that tests can run them in another network namespace.
import { runStatus, type CommandRunner, type CommandStatus } from "../command-runner.js";
import { JUMPS, type Jump } from "./chains.js";
import { shoalChainsOf, type ExistingChains } from "./rules.js";

export class IptablesError extends Error {
  readonly code = "IPTABLES_FAILED";

  constructor(
    readonly argv: readonly string[],
    readonly result: CommandStatus,
  ) {
    super(`${argv.join(" ")} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = "IptablesError";
  }
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
      const first = await runStatus(this.run, ["iptables", "-w", "-t", jump.table, "-S", jump.from, "1"]);
      if (first.code === 0 && first.stdout.trim() === `-A ${jump.from} -j ${jump.to}`) continue;
      await this.removeJumps([jump]);
      await this.check(jumpArgs(jump, "-I"));
    }
  }

  /** Deletes each jump, every copy of it (none is no error). */
  async removeJumps(jumps: readonly Jump[] = JUMPS): Promise<void> {
    for (const jump of jumps) {
      while ((await runStatus(this.run, jumpArgs(jump, "-C"))).code === 0) await this.check(jumpArgs(jump, "-D"));
    }
  }

  private async save(table: string): Promise<string> {
    return (await this.check(["iptables-save", "-t", table])).stdout;
  }

  private async check(argv: readonly string[], input?: string): Promise<CommandStatus> {
    const result = await runStatus(this.run, argv, input);
    if (result.code !== 0) throw new IptablesError(argv, result);
    return result;
  }
}

function jumpArgs(jump: Jump, op: "-C" | "-I" | "-D"): string[] {
  const position = op === "-I" ? ["1"] : [];
  return ["iptables", "-w", "-t", jump.table, op, jump.from, ...position, "-j", jump.to];
}
