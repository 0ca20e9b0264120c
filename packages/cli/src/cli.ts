// The command tree. Each command's module is imported only when that command runs, so that
// `shoal --version` and `shoal --help` start fast.
import { Command, CommanderError } from "commander";
import { VERSION, errorMessage, isShoalError } from "@shoal/shared";
import { registerClusterCommands } from "./commands/cluster.js";
import { registerDaemonCommands } from "./commands/daemons.js";
import { enableConfigFiles } from "./commands/config-file.js";
import { registerInitCommand } from "./commands/init.js";
import { registerJoinCommand } from "./commands/join.js";
import { registerBackupCommand } from "./commands/backup.js";
import { registerEventsCommand } from "./commands/events.js";
import { registerDashboardCommands } from "./commands/dashboard.js";
import { registerImageCommands } from "./commands/image.js";
import { registerLocalCommands } from "./commands/local.js";
import { registerNodeCommands } from "./commands/node.js";
import { registerServiceCommands } from "./commands/service.js";
import { registerSecretCommands } from "./commands/secret.js";
import { registerNetworkCommands } from "./commands/network.js";
import { registerTaskCommands } from "./commands/task/task-commands.js";
import { enableTlsDir } from "./tls.js";

export function buildProgram(): Command {
  const program = new Command("shoal")
    .description(
      "Shoal: a swarm-like container orchestrator (managers keep state with Raft; agents run tasks on Docker)",
    )
    .version(VERSION, "-v, --version", "print the version and exit")
    .showHelpAfterError("(run with --help for usage)")
    .enablePositionalOptions()
    .exitOverride();

  program
    .command("version")
    .description("print the version of this command")
    .action(() => {
      process.stdout.write(`shoal ${VERSION} (node ${process.versions.node})\n`);
    });

  registerLocalCommands(program);
  registerDaemonCommands(program);
  // --config FILE for the daemons: every flag of theirs is a key of the file (config-file.ts).
  enableConfigFiles(program, ["manager", "agent"]);
  // shoal init | join: the front door, writing those files and starting the daemons.
  registerInitCommand(program);
  registerJoinCommand(program);
  registerNodeCommands(program);
  registerServiceCommands(program);
  registerSecretCommands(program);
  registerNetworkCommands(program);
  registerTaskCommands(program);
  registerImageCommands(program);
  registerClusterCommands(program);
  registerBackupCommand(program);
  registerEventsCommand(program);
  registerDashboardCommands(program);
  // Every command that calls a manager does so over mutual TLS with a client certificate.
  enableTlsDir(program);
  return program;
}

/** Runs the command line; returns the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (err: unknown) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed.
      return err.exitCode;
    }
    process.stderr.write(`shoal: ${errorMessage(err)}\n`);
    return isShoalError(err) ? 1 : 2;
  }
}
