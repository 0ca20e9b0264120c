// shoal init: make this machine the first manager of a new cluster, as `docker swarm init` does.
// Writes /etc/shoal/manager.json, starts the manager (systemd unit where systemd runs; with
// --start, in the background; else prints the command), then, once it answers, writes
// /etc/shoal/agent.json and starts an agent too (it runs the tasks of the manager's node here;
// --no-agent leaves it out), and prints the join commands.
//
// Mutual TLS: the manager founds the cluster's CA and writes the admin's client certificate to
// DATA_DIR/client/; init calls the manager with it (and prints it as SHOAL_TLS_DIR for the user),
// and gets the agent's certificate with the manager's (the agent runs as the manager's node), so
// that it starts joined.
import type { Command } from "commander";
import { ErrorCode, ShoalError, TlsMaterial, errorMessage, readCertFiles } from "@shoal/shared";
import { Control } from "../client.js";
import { clientTls, TLS_DIR_ENV } from "../tls.js";
import { configSchema, type ConfigSchema } from "./config-schema.js";
import { collect } from "./service-spec.js";
import { parseAddress } from "./daemons.js";
import {
  advertiseAddr,
  daemonPaths,
  refuseExisting,
  dryRunHostSetup,
  realHostSetup,
  settingsOf,
  startDaemon,
  startMode,
  writeDaemonConfig,
  type HostSetup,
  type StartMode,
} from "./host-setup.js";
import {
  adminClientDir,
  agentBesideCertificate,
  daemonCertDir,
  daemonDataDir,
  saveDaemonCertificate,
} from "./join-certificate.js";

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

/**
 * Waits until the manager at `addr` knows a leader and the cluster has join tokens, calling it
 * with the client certificate in `tlsDir` (the founding manager writes it as it starts).
 */
export async function waitForTokens(
  addr: string,
  tlsDir: string,
  ms: number,
): Promise<{ worker: string; manager: string }> {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    let control: Control | undefined;
    try {
      control = new Control(addr, 2000, await clientTls(tlsDir));
      const info = await control.call("getInfo", {});
      if (info.raft && info.raft.leaderRaftId !== 0) {
        const t = (await control.call("getCluster", { clusterId: "" })).cluster?.rootJoinTokens;
        if (t?.worker && t.manager) return { worker: t.worker, manager: t.manager };
      }
    } catch (err: unknown) {
      last = errorMessage(err);
    } finally {
      control?.close();
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
  const force = flags.force ?? false;
  const tlsDir = adminClientDir(flags.dataRoot);
  const agentOpts = settingsOf(flags.agentOpt, "--agent-opt", schemas.agent);
  await refuseExisting(setup, flags.agent ? [manager.configFile, agent.configFile] : [manager.configFile], force);
  const mode: StartMode = await startMode(setup, flags);

  await writeDaemonConfig(
    setup,
    manager.configFile,
    {
      "data-dir": daemonDataDir(flags.dataRoot, "manager"),
      listen,
      advertise,
      ...settingsOf(flags.managerOpt, "--manager-opt", schemas.manager),
    },
    schemas.manager,
    force,
  );
  const useIt = `export SHOAL_MANAGER=${advertise} ${TLS_DIR_ENV}=${tlsDir}`;

  if (mode === "print") {
    say(
      `The manager's config is ${manager.configFile}. ${flags.systemd ? "systemd does not run on this machine" : "--no-systemd"}: ` +
        `start the manager yourself (under your process supervisor, or in a terminal):\n\n` +
        `    shoal manager --config ${manager.configFile}\n\n` +
        `It founds the cluster's CA and writes the admin's client certificate to ${tlsDir}; the CLI uses it:\n\n` +
        `    ${useIt}\n`,
    );
    if (flags.agent) {
      say(
        `Then, to run tasks on this machine too, start an agent as the manager's node:\n\n` +
          `    shoal agent --manager ${advertise} --data-dir ${daemonDataDir(flags.dataRoot, "agent")} ` +
          `--manager-cert-dir ${daemonCertDir(flags.dataRoot, "manager")}\n`,
      );
    }
    say(
      `shoal cluster join-token worker|manager prints the commands that add machines.\n` +
        `Or run shoal init --start to start the daemons in the background (logs in ${flags.logDir}).`,
    );
    return;
  }

  const lines = [await startDaemon(setup, mode, "manager", manager)];
  const tokens = flags.dryRun
    ? { worker: "SWMTKN-1-<the-worker-token>", manager: "SWMTKN-1-<the-manager-token>" }
    : await waitForTokens(advertise, tlsDir, timeoutMs(flags));
  if (flags.agent) {
    // The agent starts joined: its certificate (worker, from the CA) is in its data dir.
    if (flags.dryRun) {
      say(`would get the agent's certificate (as the manager's node) in ${daemonCertDir(flags.dataRoot, "agent")}`);
    } else {
      // The agent runs as the manager's node: its certificate is asked for with the manager's.
      const managerDir = daemonCertDir(flags.dataRoot, "manager");
      const managerFiles = await readCertFiles(managerDir);
      if (!managerFiles) {
        throw new ShoalError(ErrorCode.FailedPrecondition, `the manager wrote no certificate to ${managerDir}`);
      }
      const managerTls = new TlsMaterial(managerFiles);
      await saveDaemonCertificate(
        flags.dataRoot,
        "agent",
        await agentBesideCertificate([advertise], managerTls, timeoutMs(flags)),
      );
    }
    // manager-cert-dir: the agent runs as the manager's node (and never starts a manager itself).
    const settings = {
      manager: advertise,
      "data-dir": daemonDataDir(flags.dataRoot, "agent"),
      "manager-cert-dir": daemonCertDir(flags.dataRoot, "manager"),
      ...agentOpts,
    };
    await writeDaemonConfig(setup, agent.configFile, settings, schemas.agent, force);
    lines.push(await startDaemon(setup, mode, "agent", agent));
  }
  say(
    `Cluster initialised: this machine is its first manager, at ${advertise}.\n` +
      lines.map((l) => `  ${l}\n`).join("") +
      `\nTo add a worker to this cluster, run on it:\n\n    ${joinCommand(tokens.worker, advertise)}\n` +
      `\nTo add a manager to this cluster, run on it:\n\n    ${joinCommand(tokens.manager, advertise)}\n` +
      `\nThe admin's client certificate is in ${tlsDir} (keep it private; shoal cluster client-cert ` +
      `NAME --out DIR issues others). Use the cluster with it:\n\n    ${useIt}\n    shoal node ls`,
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
