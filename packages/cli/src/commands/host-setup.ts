// What `shoal init` and `shoal join` do to a machine, behind one interface: write a file, run a
// command (systemctl), start a daemon in the background. The real one acts; the dry run prints
// what it would do; tests record the calls. Also how the daemons are started: by systemd, in the
// background with log files (--start), or by the user from printed commands.
import { execFile, spawn } from "node:child_process";
import { chmod, mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { ErrorCode, ShoalError, isProcessAlive } from "@shoal/shared";
import type { ConfigSchema } from "./config-schema.js";
import { checkConfig, renderConfig } from "./config-file.js";
import { SYSTEMD_UNIT_DIR, pathExists, systemdRunning, unitFile, unitName, type DaemonRole } from "./systemd-units.js";

const exec = promisify(execFile);
/** How long a daemon started in the background is watched for an immediate exit. */
const EARLY_EXIT_MS = 1500;

export interface HostSetup {
  /** Writes `text` to `path` (its folder made first), atomically, with `mode`. */
  writeFile(path: string, text: string, mode: number): Promise<void>;
  /** Runs a command to its end; rejects if it fails. */
  run(command: string, args: readonly string[]): Promise<void>;
  /** Starts `shoal ARGS` detached, output appended to `logFile`, its pid written to `pidFile`. */
  startDetached(args: readonly string[], logFile: string, pidFile: string): Promise<number>;
  exists(path: string): Promise<boolean>;
}

/** The `shoal` being run, as [node, script]: what units and background starts run. */
export function shoalCommand(): [string, string] {
  return [process.execPath, process.argv[1]!];
}

export function realHostSetup(): HostSetup {
  return {
    async writeFile(path, text, mode) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.tmp-${process.pid}`;
      await writeFile(tmp, text, { mode });
      await chmod(tmp, mode);
      await rename(tmp, path);
    },
    async run(command, args) {
      await exec(command, [...args], { timeout: 120_000 });
    },
    async startDetached(args, logFile, pidFile) {
      const old = Number.parseInt(await readFile(pidFile, "utf8").catch(() => ""), 10);
      if (Number.isInteger(old) && old > 0 && isProcessAlive(old)) {
        throw new ShoalError(ErrorCode.FailedPrecondition, `already running as pid ${old} (${pidFile})`);
      }
      await mkdir(dirname(logFile), { recursive: true });
      await mkdir(dirname(pidFile), { recursive: true });
      const out = await open(logFile, "a", 0o640);
      try {
        const [node, script] = shoalCommand();
        const child = spawn(node, [script, ...args], { detached: true, stdio: ["ignore", out.fd, out.fd] });
        child.unref();
        if (child.pid === undefined) throw new ShoalError(ErrorCode.Internal, `could not start shoal ${args[0]}`);
        await writeFile(pidFile, `${child.pid}\n`);
        // A daemon that cannot start (Docker down, port taken) ends within a moment: say so here
        // rather than "started".
        const exited = await new Promise<number | string | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), EARLY_EXIT_MS);
          child.once("exit", (code, signal) => {
            clearTimeout(timer);
            resolve(code ?? signal ?? "?");
          });
        });
        if (exited !== undefined) {
          const tail = (await readFile(logFile, "utf8").catch(() => "")).trimEnd().split("\n").slice(-5).join("\n");
          throw new ShoalError(
            ErrorCode.FailedPrecondition,
            `shoal ${args[0]} stopped at once (exit ${exited}); the end of ${logFile}:\n${tail}`,
          );
        }
        return child.pid;
      } finally {
        await out.close();
      }
    },
    exists: pathExists,
  };
}

/** Prints each step instead of taking it; `exists` answers from the real machine. */
export function dryRunHostSetup(say: (text: string) => void): HostSetup {
  return {
    async writeFile(path, text, mode) {
      say(`would write ${path} (mode ${mode.toString(8).padStart(4, "0")}):\n${indent(text)}`);
    },
    async run(command, args) {
      say(`would run: ${[command, ...args].join(" ")}`);
    },
    async startDetached(args, logFile) {
      say(`would start in the background: shoal ${args.join(" ")} >>${logFile} 2>&1`);
      return 0;
    },
    exists: pathExists,
  };
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/** How the daemons get started on this machine. */
export type StartMode = "systemd" | "background" | "print";

export async function startMode(setup: HostSetup, flags: { systemd: boolean; start?: boolean }): Promise<StartMode> {
  if (flags.systemd && (await systemdRunning({ exists: (p) => setup.exists(p), run: probeRun }))) return "systemd";
  return flags.start ? "background" : "print";
}

async function probeRun(command: string, args: readonly string[]): Promise<void> {
  await exec(command, [...args], { timeout: 10_000 });
}

export interface DaemonPaths {
  readonly configFile: string;
  readonly logFile: string;
  readonly pidFile: string;
}

export function daemonPaths(
  role: DaemonRole,
  dirs: { configDir: string; logDir: string; dataRoot: string },
): DaemonPaths {
  return {
    configFile: join(dirs.configDir, `${role}.json`),
    logFile: join(dirs.logDir, `${role}.log`),
    pidFile: join(dirs.dataRoot, `${role}.pid`),
  };
}

/**
 * Starts a daemon whose config file is written, as `mode` says; returns a line saying how it
 * runs (or how to run it).
 */
export async function startDaemon(
  setup: HostSetup,
  mode: StartMode,
  role: DaemonRole,
  paths: DaemonPaths,
): Promise<string> {
  const [node, shoal] = shoalCommand();
  switch (mode) {
    case "systemd": {
      const unit = join(SYSTEMD_UNIT_DIR, unitName(role));
      await setup.writeFile(unit, unitFile({ role, node, shoal, configFile: paths.configFile }), 0o644);
      await setup.run("systemctl", ["daemon-reload"]);
      await setup.run("systemctl", ["enable", "--now", unitName(role)]);
      return `${role}: started by systemd as ${unitName(role)} (journalctl -u ${unitName(role)})`;
    }
    case "background": {
      const pid = await setup.startDetached([role, "--config", paths.configFile], paths.logFile, paths.pidFile);
      return `${role}: started in the background, pid ${pid} (log ${paths.logFile}; stop: kill $(cat ${paths.pidFile}))`;
    }
    case "print":
      return `${role}: shoal ${role} --config ${paths.configFile}`;
  }
}

/**
 * This machine's address for others to reach it on: the one non-loopback IPv4 address it has.
 * Several (or none) need --advertise, as `docker swarm init` asks for --advertise-addr.
 */
export function defaultAdvertiseHost(): string {
  const addrs = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === "IPv4" && !a.internal)
    .map((a) => a!.address);
  const unique = [...new Set(addrs)];
  if (unique.length === 1) return unique[0]!;
  throw new ShoalError(
    ErrorCode.InvalidArgument,
    unique.length === 0
      ? "this machine has no IPv4 address besides loopback: give --advertise HOST:PORT"
      : `this machine has several addresses (${unique.join(", ")}): choose the one others reach it on with --advertise HOST:PORT`,
  );
}

/** --advertise, else --listen when it names a host, else this machine's address with its port. */
export function advertiseAddr(listen: string, advertise: string | undefined): string {
  if (advertise !== undefined) return advertise;
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i);
  if (host !== "0.0.0.0" && host !== "[::]" && host !== "::") return listen;
  return `${defaultAdvertiseHost()}:${listen.slice(i + 1)}`;
}

/**
 * KEY=VALUE pairs of --manager-opt / --agent-opt as settings of the daemon's config file, typed
 * by its schema: "true"/"false" (or the key alone) for booleans, repeated pairs for lists. The
 * values are then checked like the file's.
 */
export function settingsOf(pairs: readonly string[], flag: string, schema: ConfigSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = eq === -1 ? pair : pair.slice(0, eq);
    const text = eq === -1 ? undefined : pair.slice(eq + 1);
    if (key === "") throw new ShoalError(ErrorCode.InvalidArgument, `${flag}: "${pair}" has no key`);
    const type = schema.get(key)?.type;
    if (type === "boolean") out[key] = text === undefined || text === "true" ? true : text === "false" ? false : text;
    else if (type === "list") out[key] = [...((out[key] as string[] | undefined) ?? []), text ?? ""];
    else out[key] = text ?? "";
  }
  return out;
}

/**
 * Checks a daemon's settings against its command's keys and writes them as its config file
 * (0600: it may hold a join token given with --manager-opt/--agent-opt). An existing file is kept
 * unless `force`.
 */
export async function writeDaemonConfig(
  setup: HostSetup,
  file: string,
  settings: Readonly<Record<string, unknown>>,
  schema: ConfigSchema,
  force: boolean,
): Promise<void> {
  const values = checkConfig(settings, file, schema);
  await refuseExisting(setup, [file], force);
  await setup.writeFile(file, renderConfig(values, schema), 0o600);
}

/** Fails when one of `files` exists, unless `force`: the machine is set up already. */
export async function refuseExisting(setup: HostSetup, files: readonly string[], force: boolean): Promise<void> {
  if (force) return;
  for (const file of files) {
    if (await setup.exists(file)) {
      throw new ShoalError(
        ErrorCode.AlreadyExists,
        `${file} exists: this machine is set up already (start it with the command that file is for, or give --force to replace it)`,
      );
    }
  }
}
