// Errors of the multi-host test harness: one class with a stable code and the context that
// explains what failed.

export type HarnessErrorCode =
  | "PREREQUISITE_MISSING"
  | "COMMAND_FAILED"
  | "TIMEOUT"
  | "DOCKERD_FAILED"
  | "REGISTRY_FAILED"
  | "NO_FREE_SUBNET"
  | "DISPOSED"
  | "INVALID_ARGUMENT";

export class HarnessError extends Error {
  override readonly name: string = "HarnessError";
  readonly code: HarnessErrorCode;

  constructor(code: HarnessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A command that exited with a non-zero status (or was killed); carries its output. */
export class CommandError extends HarnessError {
  override readonly name: string = "CommandError";
  readonly command: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(result: {
    command: readonly string[];
    exitCode: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    timedOut?: boolean;
  }) {
    const how =
      result.timedOut === true
        ? "timed out"
        : result.signal !== null
          ? `killed by ${result.signal}`
          : `exit code ${String(result.exitCode)}`;
    const detail = (result.stderr.trim() || result.stdout.trim()).slice(-2000);
    super("COMMAND_FAILED", `${result.command.join(" ")}: ${how}${detail ? `: ${detail}` : ""}`);
    this.command = result.command;
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}
