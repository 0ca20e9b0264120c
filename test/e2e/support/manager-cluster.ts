// A cluster of managers as real processes: the first founds it, the others join with the manager
// token, and each is waited for until the group counts it. Used by tests and benchmarks.
import { join } from "node:path";
import type { TestControl } from "./control-client.js";
import { joinTokens } from "./join-tokens.js";
import { ShoalProcess, freePort } from "./shoal-process.js";
import { waitUntil } from "./wait.js";

export interface ClusterManager {
  readonly addr: string;
  readonly proc: ShoalProcess;
}

export interface ManagerClusterOptions {
  readonly count: number;
  /** Data dirs and logs go to ROOT/m<i> and ROOT/m<i>.log. */
  readonly root: string;
  readonly control: TestControl;
  /** The address of manager i; default 127.0.0.1 on a free port. */
  addr?(i: number): Promise<string> | string;
  /** More arguments for every manager (log level, --unsafe-no-fsync, ...). */
  readonly args?: readonly string[];
  /** More arguments for manager i alone (its own ports). */
  argsOf?(i: number): Promise<readonly string[]> | readonly string[];
}

export async function startManagerCluster(options: ManagerClusterOptions): Promise<ClusterManager[]> {
  const managers: ClusterManager[] = [];
  for (let i = 0; i < options.count; i++) {
    const addr = options.addr ? await options.addr(i) : `127.0.0.1:${await freePort()}`;
    const args = ["manager", "--listen", addr, "--data-dir", join(options.root, `m${i}`), ...(options.args ?? [])];
    if (options.argsOf) args.push(...(await options.argsOf(i)));
    if (i > 0) {
      const token = (await joinTokens(options.control, managers[0]!.addr)).manager;
      args.push("--join", managers[0]!.addr, "--token", token);
    }
    const proc = new ShoalProcess(args, join(options.root, `m${i}.log`));
    proc.start();
    managers.push({ addr, proc });
    await waitUntil(
      `manager ${i} to be a member`,
      async () => (await options.control.call(addr, "getInfo", {}, 500)).raft?.members.length === i + 1,
    );
  }
  return managers;
}
