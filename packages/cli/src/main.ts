// Entry point of the `shoal` command.
import { runCli } from "./cli.js";

// Output piped into a command that stops reading (| head) is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

// Exit when the command is done, even if a client channel or a timer would keep Node waiting.
process.exit(await runCli(process.argv.slice(2)));
