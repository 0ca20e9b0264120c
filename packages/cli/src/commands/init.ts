// shoal init: make this machine the first manager of a new cluster, as `docker swarm init` does.
// Writes /etc/shoal/manager.json, starts the manager (systemd unit where systemd runs; with
// --start, in the background; else prints the command), then, once it answers, writes
// /etc/shoal/agent.json and starts an agent too (managers are not nodes in Shoal: the agent on the
// same machine is what runs tasks here; --no-agent leaves it out), and prints the join commands.
import type { Command } from "commander";
import { ErrorCode, ShoalError, errorMessage } from "@shoal/shared";
import { Control } from "../client.js";
import { configSchema, type ConfigSchema } from "./config-schema.js";
import { collect } from "./service-spec.js";
import { parseAddress } from "./daemons.js";
import {
  advertiseAddr,
  daemonPaths,
  dryRunHostSetup,
  realHostSetup,
  settingsOf,
  startDaemon,
  startMode,
  writeDaemonConfig,
  type HostSetup,
  type StartMode,
} from "./host-setup.js";

export interface SetupFlags {
  configDir: string;
  dataRoot: string;
  logDir: string;
  listen: string;
  advertise?: string;
  agent: boolean;
  systemd: boolean;
  start?: boolean;
  dryRun?: boolean;
  force?: boolean;
  managerOpt: string[];
  agentOpt: string[];
  timeout: string;
}

/** The flags `shoal init` and `shoal join` share. */
export function setupOptions(command: Command): Command {
  return command
    .option("--config-dir <dir>", "where the daemons' config files go", "/etc/shoal")
    .option("--data-root <dir>", "state of the daemons, in DIR/manager and DIR/agent", "/var/lib/shoal")
    .option("--log-dir <dir>", "logs of daemons started with --start", "/var/log/shoal")
    .option("--listen <addr>", "the manager's HOST:PORT for agents, clients and managers", "0.0.0.0:4242")
    .option("--advertise <addr>", "HOST:PORT others reach the manager on (default: this machine's one IPv4 address)")
    .option("--no-agent", "run no agent here (tasks run only on other machines)")
    .option("--no-systemd", "do not install systemd units even where systemd runs")
    .option("--start", "where systemd does not run: start the daemons in the background, logging to --log-dir")
    .option("--dry-run", "print the files and commands, write and start nothing")
    .option("--force", "replace existing config files")
    .option("--manager-opt <key=value>", "any setting of shoal manager, as its config key (repeatable)", collect, [])
    .option("--agent-opt <key=value>", "any setting of shoal agent, as its config key (repeatable)", collect, [])
    .option("--timeout <seconds>", "how long to wait for the manager to answer", "60");
}

export function daemonSchemas(program: Command): { manager: ConfigSchema; agent: ConfigSchema } {
  const of = (name: string): ConfigSchema => configSchema(program.commands.find((c) => c.name() === name)!);
  return { manager: of("manager"), agent: of("agent") };
}

export function hostSetupFor(flags: SetupFlags): HostSetup {
  return flags.dryRun ? dryRunHostSetup((text) => process.stdout.write(`${text}\n`)) : realHostSetup();
}

export function timeoutMs(flags: SetupFlags): number {
  const ms = Number(flags.timeout) * 1000;
  if (!(ms > 0))
    throw new ShoalError(ErrorCode.InvalidArgument, `--timeout: "${flags.timeout}" is not a number of seconds`);
  return ms;
}

/** Waits until the manager at `addr` knows a leader and the cluster has join tokens. */
export async function waitForTokens(addr: string, ms: number): Promise<{ worker: string; manager: string }> {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    const control = new Control(addr, 2000);
    try {
      const info = await control.call("getInfo", {});
      if (info.raft && info.raft.leaderRaftId !== 0) {
        const t = (await control.call("getCluster", { clusterId: "" })).cluster?.rootJoinTokens;
        if (t?.worker && t.manager) return { worker: t.worker, manager: t.manager };
      }
    } catch (err: unknown) {
      last = errorMessage(err);
    } finally {
      control.close();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new ShoalError(
    ErrorCode.DeadlineExceeded,
    `the manager at ${addr} did not answer within ${ms / 1000} s${last ? ` (${last})` : ""}`,
  );
}

export function joinCommand(token: string, addr: string): string {
  return `shoal join --token ${token} ${addr}`;
}

async function init(program: Command, flags: SetupFlags): Promise<void> {
  const schemas = daemonSchemas(program);
  const setup = hostSetupFor(flags);
  const say = (text: string): void => void process.stdout.write(`${text}\n`);
  const listen = parseAddress(flags.listen, "--listen");
  const advertise = parseAddress(advertiseAddr(listen, flags.advertise), "--advertise");
  const dirs = { configDir: flags.configDir, logDir: flags.logDir, dataRoot: flags.dataRoot };
  const manager = daemonPaths("manager", dirs);
  const agent = daemonPaths("agent", dirs);
  const mode: StartMode = await startMode(setup, flags);

  await writeDaemonConfig(
    setup,
    manager.configFile,
    {
      "data-dir": `${flags.dataRoot}/manager`,
      listen,
      advertise,
      ...settingsOf(flags.managerOpt, "--manager-opt", schemas.manager),
    },
    schemas.manager,
    flags.force ?? false,
  );
  const agentSettings = (token: string): Record<string, unknown> => ({
    manager: advertise,
    "data-dir": `${flags.dataRoot}/agent`,
    token,
    ...settingsOf(flags.agentOpt, "--agent-opt", schemas.agent),
  });

  if (mode === "print") {
    say(
      `The manager's config is ${manager.configFile}. ${flags.systemd ? "systemd does not run on this machine" : "--no-systemd"}: ` +
        `start the manager yourself (under your process supervisor, or in a terminal):\n\n` +
        `    shoal manager --config ${manager.configFile}\n`,
    );
    if (flags.agent) {
      say(
        `Then, to run tasks on this machine too, make it an agent of the cluster:\n\n` +
          `    shoal join --token "$(shoal cluster join-token worker -q --manager ${advertise})" ${advertise}\n`,
      );
    }
    say(
      `shoal cluster join-token worker|manager --manager ${advertise} prints the commands that add machines.\n` +
        `Or run shoal init --start to start the daemons in the background (logs in ${flags.logDir}).`,
    );
    return;
  }

  const lines = [await startDaemon(setup, mode, "manager", manager)];
  const tokens = flags.dryRun
    ? { worker: "SWMTKN-1-<the-worker-token>", manager: "SWMTKN-1-<the-manager-token>" }
    : await waitForTokens(advertise, timeoutMs(flags));
  if (flags.agent) {
    await writeDaemonConfig(setup, agent.configFile, agentSettings(tokens.worker), schemas.agent, flags.force ?? false);
    lines.push(await startDaemon(setup, mode, "agent", agent));
  }
  say(
    `Cluster initialised: this machine is its first manager, at ${advertise}.\n` +
      lines.map((l) => `  ${l}\n`).join("") +
      `\nTo add a worker to this cluster, run on it:\n\n    ${joinCommand(tokens.worker, advertise)}\n` +
      `\nTo add a manager to this cluster, run on it:\n\n    ${joinCommand(tokens.manager, advertise)}\n` +
      `\nUse it: export SHOAL_MANAGER=${advertise}; shoal node ls`,
  );
  if (flags.dryRun) say("(a dry run: nothing was written or started)");
}

export function registerInitCommand(program: Command): void {
  setupOptions(
    program
      .command("init")
      .description(
        "make this machine the first manager of a new cluster (and an agent), start them, and print the join commands",
      ),
  ).action((flags: SetupFlags) => init(program, flags));
}
