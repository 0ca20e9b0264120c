// shoal manager unlock --data-dir DIR [--key-file F]
// shoal cluster unlock-key [--rotate] [-q]
//
// A manager of an autolocked cluster starts locked: it reads its data keys only with the cluster's
// unlock key, and serves nothing but DATA_DIR/unlock.sock until it has it. `manager unlock` reads the
// key from --key-file, from stdin when it is not a terminal, or from a prompt that does not echo.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { ErrorCode, InvalidArgumentError, ShoalError, systemClock } from "@shoal/shared";
import { Control, MANAGER_HELP, managerAddresses } from "../client.js";

/** --autolock, --autolock=true, --autolock=false. */
export function autolockFlag(value: string | boolean): boolean {
  if (value === true || value === "true") return true;
  if (value === "false") return false;
  throw new InvalidArgumentError(`"${String(value)}": expected true or false`, { field: "--autolock" });
}

/** How the unlock key is shown to the operator. */
export function unlockKeyText(unlockKey: string): string {
  return (
    "\nAutolock is on. Restarted managers need this unlock key before they start:\n\n" +
    `    ${unlockKey}\n\n` +
    "Keep it safe, away from the managers: without it a restarted manager cannot read its state.\n" +
    "Give it with: shoal manager unlock --data-dir DIR (reads the key from a prompt, stdin or --key-file)\n"
  );
}

export function registerUnlockKeyCommand(cluster: Command): void {
  cluster
    .command("unlock-key")
    .description("print the unlock key of an autolocked cluster; --rotate replaces it")
    .option("--rotate", "make a new unlock key (managers re-wrap their data keys with it)")
    .option("-q, --quiet", "print only the key")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: { rotate?: boolean; quiet?: boolean; manager?: string }) => {
      const control = new Control(managerAddresses(flags.manager));
      try {
        const { unlockKey } = flags.rotate
          ? await control.call("rotateUnlockKey", {})
          : await control.call("getUnlockKey", {});
        process.stdout.write(flags.quiet ? `${unlockKey}\n` : unlockKeyText(unlockKey));
        if (flags.rotate && !flags.quiet) {
          process.stdout.write(
            "A manager that was down during the rotation is unlocked with the previous key; keep it for a while.\n",
          );
        }
      } finally {
        control.close();
      }
    });
}

/** The unlock key text: from the file, from stdin when piped, or asked for on the terminal. */
export async function readUnlockKey(keyFile: string | undefined): Promise<string> {
  let text: string;
  if (keyFile !== undefined) text = await readFile(keyFile, "utf8");
  else if (!process.stdin.isTTY) text = await readStdin();
  else text = await promptHidden("Unlock key: ");
  text = text.trim();
  if (text === "") throw new ShoalError(ErrorCode.InvalidArgument, "no unlock key given");
  return text;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(c);
    size += c.byteLength;
    if (size > 4096) throw new ShoalError(ErrorCode.InvalidArgument, "stdin holds more than an unlock key");
  }
  return Buffer.concat(chunks).toString("utf8");
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let text = "";
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (d: Buffer): void => {
      for (const ch of d.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new ShoalError(ErrorCode.Cancelled, "cancelled"));
        if (ch === "\u007f") text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on("data", onData);
  });
}

export function registerManagerUnlockCommand(manager: Command): void {
  manager
    .command("unlock")
    .description("give a locked manager (autolock) the cluster's unlock key, so that it starts")
    .option("--data-dir <dir>", "the locked manager's data dir (its unlock socket is DIR/unlock.sock)")
    .option("--key-file <file>", "read the unlock key from this file (default: stdin, or a prompt)")
    .option("--status", "only say whether the manager is locked")
    .action(async (_flags: unknown, cmd: Command) => {
      // `shoal manager` has --data-dir too: commander gives it to the parent command.
      const flags = cmd.optsWithGlobals<{ dataDir?: string; keyFile?: string; status?: boolean }>();
      const dataDir = flags.dataDir ?? process.env["SHOAL_DATA_DIR"];
      if (dataDir === undefined) {
        throw new ShoalError(ErrorCode.InvalidArgument, "--data-dir (or SHOAL_DATA_DIR) is required");
      }
      const { callUnlockSocket } = await import("@shoal/manager");
      if (flags.status) {
        const locked = await callUnlockSocket(dataDir, undefined, { clock: systemClock }).then(
          (r) => r.locked,
          (err: unknown) => {
            if (err instanceof ShoalError && err.code === ErrorCode.FailedPrecondition) return false;
            throw err;
          },
        );
        process.stdout.write(locked ? "locked\n" : "not locked (or not running)\n");
        return;
      }
      await callUnlockSocket(dataDir, await readUnlockKey(flags.keyFile), { clock: systemClock });
      process.stdout.write("manager unlocked\n");
    });
}
