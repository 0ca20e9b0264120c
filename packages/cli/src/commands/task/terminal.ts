// The local terminal during `shoal task exec -it`: raw mode (keys go to the container's process
// as typed, Ctrl-C included), its size and its changes (SIGWINCH), and the terminal restored on
// every way out: the exec's end, an error, a signal, or the process exiting.
import type { TerminalSize } from "@shoal/shared";

/** The streams exec uses; the process's by default, stand-ins in tests. */
export interface ExecIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; rows?: number; columns?: number };
  stderr: NodeJS.WritableStream;
}

export function processIo(): ExecIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/** The output terminal's size; undefined when it is not a terminal. */
export function terminalSize(io: ExecIo): TerminalSize | undefined {
  const { stdout } = io;
  if (!stdout.isTTY || !stdout.rows || !stdout.columns) return undefined;
  return { height: stdout.rows, width: stdout.columns };
}

/**
 * Puts stdin in raw mode when it is a terminal; returns the function that restores it (safe to
 * call more than once). The process's exit restores it too.
 */
export function rawMode(io: ExecIo): () => void {
  const { stdin } = io;
  if (!stdin.isTTY || typeof stdin.setRawMode !== "function") return () => undefined;
  stdin.setRawMode(true);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.off("exit", restore);
    stdin.setRawMode?.(false);
  };
  process.on("exit", restore);
  return restore;
}

/** Calls `onResize` with the new size whenever the output terminal is resized; returns the stop. */
export function watchResize(io: ExecIo, onResize: (size: TerminalSize) => void): () => void {
  const { stdout } = io;
  if (!stdout.isTTY) return () => undefined;
  const listener = (): void => {
    const size = terminalSize(io);
    if (size) onResize(size);
  };
  stdout.on("resize", listener);
  return () => void stdout.off("resize", listener);
}

/** Aborts `controller` on SIGINT, SIGTERM or SIGHUP; returns the stop, and which signal came. */
export function abortOnSignals(controller: AbortController): {
  stop: () => void;
  signal: () => NodeJS.Signals | undefined;
} {
  let received: NodeJS.Signals | undefined;
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => {
    const handler = (): void => {
      received = sig;
      controller.abort();
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return {
    stop: () => {
      for (const [sig, handler] of handlers) process.off(sig, handler);
    },
    signal: () => received,
  };
}
