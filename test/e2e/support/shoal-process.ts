// Shoal daemons as real processes on this machine, for tests: started from the built command,
// logged to a file, ended with real signals.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { useClientCertDir } from "./control-client.js";

export const SHOAL_BIN = fileURLToPath(new URL("../../../packages/cli/bin/shoal.mjs", import.meta.url));

/** A free TCP port on 127.0.0.1 (free when asked; bind soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class ShoalProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<void> = Promise.resolve();

  constructor(
    readonly args: readonly string[],
    readonly logFile: string,
  ) {
    // A manager that founds a cluster (a new data dir, no --join) writes the admin client
    // certificate there: the test's from now on.
    const at = args.indexOf("--data-dir");
    const dataDir = at === -1 ? undefined : args[at + 1];
    const founding =
      args[0] === "manager" &&
      dataDir !== undefined &&
      !existsSync(join(dataDir, "identity.json")) &&
      !["--join", "--restore"].some((f) => args.includes(f));
    if (founding) useClientCertDir(join(dataDir, "client"));
  }

  start(): void {
    if (this.running) throw new Error(`already running: shoal ${this.args.join(" ")}`);
    const log = createWriteStream(this.logFile, { flags: "a" });
    // SHOAL_TEST_NODE_ARGS adds options to node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile.
    const nodeArgs = (process.env["SHOAL_TEST_NODE_ARGS"] ?? "").split(" ").filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, SHOAL_BIN, ...this.args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    this.exitPromise = new Promise((resolve) => child.once("exit", () => resolve()));
    this.child = child;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    await this.exitPromise;
  }
}
