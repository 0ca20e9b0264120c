// shoal join --token T MANAGER[,MANAGER...]: add this machine to a cluster, as `docker swarm join`
// does. The token decides what it becomes: a worker token makes an agent (/etc/shoal/agent.json);
// a manager token makes a manager that joins the raft group (/etc/shoal/manager.json) and an
// agent beside it (--no-agent leaves it out). Then the daemons start as with `shoal init`.
//
// The token's role is known to the managers only (tokens look alike, by design), so join asks: it
// reads the cluster's tokens from a manager and says which one T is, before anything is written;
// a wrong or rotated token fails here, not later in a daemon's log. --role skips the question.
// Once managers ask clients for certificates (mutual TLS), the answer comes from the CA at join,
// which signs the node's certificate with the token's role (SwarmKit's way); resolveRole is where.
import type { Command } from "commander";
import { ErrorCode, ShoalError, errorMessage, isShoalError } from "@shoal/shared";
import { Control } from "../client.js";
import { parseAddress } from "./daemons.js";
import { advertiseAddr, daemonPaths, settingsOf, startDaemon, startMode, writeDaemonConfig } from "./host-setup.js";
import { daemonSchemas, hostSetupFor, setupOptions, type SetupFlags } from "./init.js";

export type JoinRole = "worker" | "manager";

interface JoinFlags extends SetupFlags {
  token: string;
  role?: string;
}

export interface ResolvedRole {
  readonly role: JoinRole;
  /** The worker token, for the agent beside a manager; undefined when not known. */
  readonly workerToken: string | undefined;
}

/** Which role `token` grants in the cluster of `managers`, as a manager says. */
export async function resolveRole(
  managers: readonly string[],
  token: string,
  timeoutMs = 10_000,
): Promise<ResolvedRole> {
  const control = new Control(managers, timeoutMs);
  try {
    const { cluster } = await control.call("getCluster", { clusterId: "" });
    const tokens = cluster?.rootJoinTokens;
    if (tokens?.manager && token === tokens.manager) return { role: "manager", workerToken: tokens.worker };
    if (tokens?.worker && token === tokens.worker) return { role: "worker", workerToken: tokens.worker };
    throw new ShoalError(
      ErrorCode.PermissionDenied,
      `the join token is not valid for the cluster at ${control.address} (wrong, or rotated): ` +
        "print the current one on a manager with shoal cluster join-token worker|manager",
    );
  } catch (err: unknown) {
    if (isShoalError(err) && (err.code === ErrorCode.Unauthenticated || err.code === ErrorCode.PermissionDenied)) {
      if (err.message.startsWith("the join token")) throw err;
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `the manager would not say which role the token grants (${err.message}); give --role worker or --role manager`,
        { cause: err },
      );
    }
    throw new ShoalError(
      ErrorCode.Unavailable,
      `could not ask ${managers.join(",")} about the token: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  } finally {
    control.close();
  }
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
  const { role, workerToken } =
    flags.role !== undefined
      ? { role: flags.role as JoinRole, workerToken: undefined }
      : await resolveRole(managers, flags.token);
  const dirs = { configDir: flags.configDir, logDir: flags.logDir, dataRoot: flags.dataRoot };
  const mode = await startMode(setup, flags);
  const force = flags.force ?? false;
  const lines: string[] = [];
  let agentManagers = managers;

  if (role === "manager") {
    const listen = parseAddress(flags.listen, "--listen");
    const advertise = parseAddress(advertiseAddr(listen, flags.advertise), "--advertise");
    const paths = daemonPaths("manager", dirs);
    const settings = {
      "data-dir": `${flags.dataRoot}/manager`,
      listen,
      advertise,
      join: managers[0],
      token: flags.token,
      ...settingsOf(flags.managerOpt, "--manager-opt", schemas.manager),
    };
    await writeDaemonConfig(setup, paths.configFile, settings, schemas.manager, force);
    lines.push(await startDaemon(setup, mode, "manager", paths));
    agentManagers = [advertise, ...managers.filter((m) => m !== advertise)];
  }
  if (role === "worker" || flags.agent) {
    const paths = daemonPaths("agent", dirs);
    const settings = {
      manager: agentManagers,
      "data-dir": `${flags.dataRoot}/agent`,
      token: role === "worker" ? flags.token : (workerToken ?? flags.token),
      ...settingsOf(flags.agentOpt, "--agent-opt", schemas.agent),
    };
    await writeDaemonConfig(setup, paths.configFile, settings, schemas.agent, force);
    lines.push(await startDaemon(setup, mode, "agent", paths));
  }

  const what = role === "manager" ? `a manager${flags.agent ? " and an agent" : ""}` : "an agent (worker)";
  if (mode === "print") {
    say(
      `This machine joins as ${what}; the config is written. ` +
        `${flags.systemd ? "systemd does not run on this machine" : "--no-systemd"}: start ` +
        `${lines.length > 1 ? "these" : "this"} yourself (under your process supervisor, or in a terminal), ` +
        `or run shoal join again with --start --force to start them in the background:\n\n` +
        lines.map((l) => `    ${l.slice(l.indexOf(": ") + 2)}\n`).join(""),
    );
    return;
  }
  say(`This machine joins the cluster at ${managers.join(",")} as ${what}.\n${lines.map((l) => `  ${l}\n`).join("")}`);
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
      .option("--role <role>", "worker or manager: what the token grants, when managers will not say"),
  ).action((managerArg: string, flags: JoinFlags) => join(program, managerArg, flags));
}
