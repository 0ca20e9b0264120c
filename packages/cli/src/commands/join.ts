// shoal join --token T MANAGER[,MANAGER...]: add this machine to a cluster, as `docker swarm join`
// does. The token decides what it becomes: a worker token makes an agent (/etc/shoal/agent.json);
// a manager token makes a manager that joins the raft group (/etc/shoal/manager.json) and an
// agent beside it (--no-agent leaves it out). Then the daemons start as with `shoal init`.
//
// Tokens look alike, by design: the role is the CA's answer. So join runs the CA bootstrap itself
// (join-certificate.ts): it checks the managers' CA against the token's digest, sends the token
// with a certificate request, and the certificate it gets names the role. That certificate goes
// into the daemon's data dir, so the daemon starts joined; the agent beside a manager gets its
// certificate with the manager's and runs as the manager's node. A wrong or rotated token fails here,
// before anything is written. A dry run issues nothing, so it shows the role --role names.
import type { Command } from "commander";
import { ErrorCode, ShoalError, type JoinResult } from "@shoal/shared";
import { checkConfig } from "./config-file.js";
import { parseAddress } from "./daemons.js";
import {
  advertiseAddr,
  daemonPaths,
  refuseExisting,
  settingsOf,
  startDaemon,
  startMode,
  writeDaemonConfig,
} from "./host-setup.js";
import { daemonSchemas, hostSetupFor, setupOptions, timeoutMs, type SetupFlags } from "./init.js";
import {
  agentBesideCertificate,
  daemonCertDir,
  daemonDataDir,
  joinWithToken,
  saveDaemonCertificate,
} from "./join-certificate.js";

export type JoinRole = "worker" | "manager";

interface JoinFlags extends SetupFlags {
  token: string;
  role?: string;
}

/** The certificates a join got: the token's role, and the agent's when one runs here. */
interface Joined {
  readonly role: JoinRole;
  readonly manager?: JoinResult;
  readonly agent?: JoinResult;
}

/**
 * Joins with the token; with a manager token and an agent wanted, joins the agent too. All of it
 * within --timeout, which covers waiting for the cluster to elect a leader.
 */
async function joinCertificates(managers: readonly string[], flags: JoinFlags): Promise<Joined> {
  const deadline = Date.now() + timeoutMs(flags);
  const left = (): number => Math.max(1, deadline - Date.now());
  const joined = await joinWithToken(managers, flags.token, left());
  if (joined.role === "worker") {
    // Refused before anything is written: the agent's files on this machine are not touched.
    if (!flags.agent) {
      throw new ShoalError(
        ErrorCode.InvalidArgument,
        "--no-agent: the token is a worker token, and a worker is an agent; join with the manager token, " +
          "or without --no-agent (the cluster forgets the node just made, which never opens a session)",
      );
    }
    return { role: "worker", agent: joined };
  }
  if (!flags.agent) return { role: "manager", manager: joined };
  // The agent runs as the manager's node: its certificate is asked for with the manager's, first
  // from the manager that answered the join.
  const first = [joined.manager, ...managers.filter((m) => m !== joined.manager)];
  const agent = await agentBesideCertificate(first, joined.material, left());
  return { role: "manager", manager: joined, agent };
}

function managerList(value: string): string[] {
  return value
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean)
    .map((a) => parseAddress(a, "MANAGER"));
}

async function join(program: Command, managerArg: string, flags: JoinFlags): Promise<void> {
  const schemas = daemonSchemas(program);
  const setup = hostSetupFor(flags);
  const say = (text: string): void => void process.stdout.write(`${text}\n`);
  const managers = managerList(managerArg);
  if (managers.length === 0) throw new ShoalError(ErrorCode.InvalidArgument, "MANAGER: no address given");
  if (flags.role !== undefined && flags.role !== "worker" && flags.role !== "manager") {
    throw new ShoalError(ErrorCode.InvalidArgument, `--role: "${flags.role}": expected worker or manager`);
  }
  if (flags.role !== undefined && !flags.dryRun) {
    throw new ShoalError(
      ErrorCode.InvalidArgument,
      "--role goes with --dry-run only: the token decides the role (the CA names it in the certificate)",
    );
  }
  const dirs = { configDir: flags.configDir, logDir: flags.logDir, dataRoot: flags.dataRoot };
  const managerPaths = daemonPaths("manager", dirs);
  const agentPaths = daemonPaths("agent", dirs);
  const force = flags.force ?? false;
  // Everything that can fail without the cluster is checked before a certificate is issued: each
  // certificate issued makes a node in the cluster.
  const managerOpts = settingsOf(flags.managerOpt, "--manager-opt", schemas.manager);
  const agentOpts = settingsOf(flags.agentOpt, "--agent-opt", schemas.agent);
  checkConfig(managerOpts, "--manager-opt", schemas.manager);
  checkConfig(agentOpts, "--agent-opt", schemas.agent);
  const listen = parseAddress(flags.listen, "--listen");
  // agent.json is written unless --no-agent (which joins a manager alone: an agent set up on this
  // machine already is left as it is); manager.json (a manager token only) may be there already
  // where `shoal init` without --start wrote it.
  if (flags.agent) await refuseExisting(setup, [agentPaths.configFile], force);
  const mode = await startMode(setup, flags);

  const joined: Joined = flags.dryRun
    ? { role: (flags.role as JoinRole | undefined) ?? "worker" }
    : await joinCertificates(managers, flags);
  const { role } = joined;
  const runsAgent = role === "worker" || flags.agent;
  if (flags.dryRun) {
    say(
      `would join the cluster at ${managers.join(",")} with the token (a dry run issues no certificate, so it ` +
        `shows the role --role names: ${role}), and write the certificate of the ${role === "manager" ? "manager" : "agent"} ` +
        `to ${daemonCertDir(flags.dataRoot, role === "manager" ? "manager" : "agent")}` +
        (role === "manager" && runsAgent
          ? `, and the agent's (as the manager's node) to ${daemonCertDir(flags.dataRoot, "agent")}`
          : ""),
    );
  }
  if (joined.manager) await saveDaemonCertificate(flags.dataRoot, "manager", joined.manager);
  if (joined.agent) await saveDaemonCertificate(flags.dataRoot, "agent", joined.agent);

  const lines: string[] = [];
  let agentManagers = managers;
  if (role === "manager") {
    const advertise = parseAddress(advertiseAddr(listen, flags.advertise), "--advertise");
    // No token in the file: the manager starts with the certificate join wrote, and joins the
    // raft group through `join`.
    const settings = {
      "data-dir": daemonDataDir(flags.dataRoot, "manager"),
      listen,
      advertise,
      // The manager that answered the join (the leader, or a follower that forwarded to it).
      join: joined.manager?.manager ?? managers[0],
      ...managerOpts,
    };
    await writeDaemonConfig(setup, managerPaths.configFile, settings, schemas.manager, force);
    lines.push(await startDaemon(setup, mode, "manager", managerPaths));
    agentManagers = [advertise, ...managers.filter((m) => m !== advertise)];
  }
  if (runsAgent) {
    const beside = role === "manager" ? { "manager-cert-dir": daemonCertDir(flags.dataRoot, "manager") } : {};
    const settings = {
      manager: agentManagers,
      "data-dir": daemonDataDir(flags.dataRoot, "agent"),
      ...beside,
      ...agentOpts,
    };
    await writeDaemonConfig(setup, agentPaths.configFile, settings, schemas.agent, force);
    lines.push(await startDaemon(setup, mode, "agent", agentPaths));
  }

  const what = role === "manager" ? `a manager${flags.agent ? " and an agent" : ""}` : "an agent (worker)";
  if (mode === "print") {
    say(
      `This machine joins as ${what}; its certificate and config are written. ` +
        `${flags.systemd ? "systemd does not run on this machine" : "--no-systemd"}: start ` +
        `${lines.length > 1 ? "these" : "this"} yourself (under your process supervisor, or in a terminal); ` +
        `within the managers' --join-grace (10 minutes unless set): a node that has not shown up by then is ` +
        `removed, and running shoal join again joins as another node:\n\n` +
        lines.map((l) => `    ${l.slice(l.indexOf(": ") + 2)}\n`).join(""),
    );
    return;
  }
  say(`This machine joins the cluster at ${managers.join(",")} as ${what}.\n${lines.map((l) => `  ${l}\n`).join("")}`);
  if (role === "manager") {
    say(
      `The CLI on this machine needs a client certificate: issue one on a machine that has the admin's ` +
        `(shoal cluster client-cert NAME --out DIR), then export SHOAL_TLS_DIR=DIR.`,
    );
  }
  if (flags.dryRun) say("(a dry run: nothing was written or started)");
}

export function registerJoinCommand(program: Command): void {
  setupOptions(
    program
      .command("join")
      .description(
        "add this machine to a cluster: as an agent with a worker token, as a manager (and agent) with a manager token",
      )
      .argument("<manager>", "HOST:PORT of a manager of the cluster (or several, with commas)")
      .requiredOption("--token <token>", "the join token (shoal cluster join-token worker|manager)")
      .option("--role <role>", "with --dry-run: worker or manager, the role to show (a dry run issues no certificate)"),
  ).action((managerArg: string, flags: JoinFlags) => join(program, managerArg, flags));
}
