import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import {
  ContainerOutputStream,
  type ContainerCallOpen,
  type ContainerCallResponse,
  type TerminalSize,
} from "@shoal/shared";
import type { ContainerCallInput, ContainerCalls } from "../../../src/commands/task/container-call.js";
import { EXEC_FAILED, execEnv, runExec, type ExecFlags } from "../../../src/commands/task/exec.js";
import type { ExecIo } from "../../../src/commands/task/terminal.js";

type Output = ContainerCallResponse["output"];

/** A ContainerCalls whose one call answers with `answer(inputs)`, recording the open and the input. */
function fakeCalls(answer: (inputs: ContainerCallInput[]) => AsyncGenerator<Output>): {
  calls: ContainerCalls;
  opened: ContainerCallOpen[];
  inputs: ContainerCallInput[];
} {
  const opened: ContainerCallOpen[] = [];
  const inputs: ContainerCallInput[] = [];
  const calls = {
    start: async (open: ContainerCallOpen) => {
      opened.push(open);
      return {
        responses: (async function* () {
          for await (const output of answer(inputs)) yield { output };
        })(),
        write: (input: ContainerCallInput) => void inputs.push(input),
      };
    },
  } as unknown as ContainerCalls;
  return { calls, opened, inputs };
}

function text(s: string, stream = ContainerOutputStream.STDOUT): Output {
  return { $case: "data", value: { stream, data: Buffer.from(s) } };
}
const started: Output = {
  $case: "started",
  value: { taskId: "t1", nodeId: "n2", containerId: "c1", serviceId: "s1", execId: "e1" },
};
const exit = (exitCode: number): Output => ({ $case: "exit", value: { exitCode } });

function io(tty = false): ExecIo & { out: string; err: string; raw: boolean[]; stdoutEvents: EventEmitter } {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };
  const state = { out: "", err: "", raw: [] as boolean[] };
  if (tty) {
    stdin.isTTY = true;
    stdin.setRawMode = (raw: boolean) => void state.raw.push(raw);
  }
  const stdout = Object.assign(new EventEmitter(), {
    isTTY: tty,
    rows: 40,
    columns: 120,
    write: (chunk: Buffer | string) => ((state.out += chunk.toString()), true),
  });
  const stderr = { write: (chunk: Buffer | string) => ((state.err += chunk.toString()), true) };
  return Object.assign(state, {
    stdin,
    stdout: stdout as unknown as ExecIo["stdout"],
    stderr: stderr as unknown as NodeJS.WritableStream,
    stdoutEvents: stdout,
    get out() {
      return state.out;
    },
    get err() {
      return state.err;
    },
  });
}

const flags = (more: Partial<ExecFlags> = {}): ExecFlags => ({ env: [], ...more });
const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

describe("task exec", () => {
  it("prints stdout and stderr apart and returns the command's exit code", async () => {
    const { calls, opened } = fakeCalls(async function* () {
      yield started;
      yield text("hello\n");
      yield text("oops\n", ContainerOutputStream.STDERR);
      yield exit(3);
    });
    const t = io();
    const code = await runExec(
      calls,
      "web.2",
      ["sh", "-c", "x"],
      flags({ env: ["A=1"], user: "nobody", workdir: "/tmp" }),
      t,
    );
    expect(code).toBe(3);
    expect(t.out).toBe("hello\n");
    expect(t.err).toBe("oops\n");
    expect(opened[0]).toMatchObject({
      container: "web.2",
      exec: {
        cmd: ["sh", "-c", "x"],
        env: ["A=1"],
        user: "nobody",
        workingDir: "/tmp",
        tty: false,
        attachStdin: false,
      },
      size: undefined,
    });
  });

  it("with -i sends stdin, then its end", async () => {
    const t = io();
    const { calls, inputs } = fakeCalls(async function* (inputs) {
      yield started;
      await until(() => inputs.some((i) => i.$case === "closeStdin"));
      yield exit(0);
    });
    const done = runExec(calls, "web.1", ["cat"], flags({ interactive: true }), t);
    (t.stdin as PassThrough).end("abc");
    expect(await done).toBe(0);
    const sent = inputs.flatMap((i) => (i.$case === "stdin" ? [Buffer.from(i.value).toString()] : []));
    expect(sent.join("")).toBe("abc");
    expect(inputs.at(-1)).toEqual({ $case: "closeStdin", value: true });
  });

  it("with -it puts the terminal in raw mode, sends its size and resizes, and restores it", async () => {
    const t = io(true);
    const resized: TerminalSize[] = [];
    const { calls, opened } = fakeCalls(async function* (inputs) {
      yield started;
      t.stdout.rows = 50;
      t.stdoutEvents.emit("resize");
      await until(() => inputs.some((i) => i.$case === "resize"));
      for (const i of inputs) if (i.$case === "resize") resized.push(i.value);
      yield text("$ ", ContainerOutputStream.TTY);
      yield exit(0);
    });
    expect(await runExec(calls, "web.1", ["sh"], flags({ interactive: true, tty: true }), t)).toBe(0);
    expect(opened[0]?.size).toEqual({ height: 40, width: 120 });
    expect(opened[0]?.exec?.tty).toBe(true);
    expect(resized).toEqual([{ height: 50, width: 120 }]);
    expect(t.out).toBe("$ ");
    expect(t.raw).toEqual([true, false]);
    expect(t.stdoutEvents.listenerCount("resize")).toBe(0);
  });

  it("with -t alone sends the size but leaves the terminal as it is", async () => {
    const t = io(true);
    const { calls, opened } = fakeCalls(async function* () {
      yield exit(0);
    });
    expect(await runExec(calls, "web.1", ["ls"], flags({ tty: true }), t)).toBe(0);
    expect(opened[0]?.size).toEqual({ height: 40, width: 120 });
    expect(opened[0]?.exec?.attachStdin).toBe(false);
    expect(t.raw).toEqual([]);
  });

  it("restores the terminal and exits 125 when the call fails", async () => {
    const t = io(true);
    const { calls } = fakeCalls(async function* () {
      yield started;
      yield { $case: "error", value: { code: 14, message: "the node's session ended" } };
    });
    expect(await runExec(calls, "web.1", ["sh"], flags({ interactive: true, tty: true }), t)).toBe(EXEC_FAILED);
    expect(t.err).toContain("the node's session ended");
    expect(t.raw).toEqual([true, false]);
  });

  it("exits 125 with a clear message when the call ends without an exit code", async () => {
    const t = io();
    const { calls } = fakeCalls(async function* () {
      yield started;
      yield text("partial");
    });
    expect(await runExec(calls, "web.1", ["sleep", "9"], flags(), t)).toBe(EXEC_FAILED);
    expect(t.err).toMatch(/ended without an exit code/);
  });

  it("refuses -it when stdin is not a terminal, and an empty command", async () => {
    const { calls, opened } = fakeCalls(async function* () {
      yield exit(0);
    });
    await expect(runExec(calls, "web.1", ["sh"], flags({ interactive: true, tty: true }), io())).rejects.toThrow(
      /not a TTY/,
    );
    await expect(runExec(calls, "web.1", [], flags(), io())).rejects.toThrow(/command/);
    expect(opened).toHaveLength(0);
  });

  it("takes -e K=V, and -e K from this process's environment", () => {
    expect(execEnv(["A=1", "B", "C", "D="], { B: "two" })).toEqual(["A=1", "B=two", "D="]);
    expect(() => execEnv(["=x"])).toThrow(/--env/);
  });
});

describe("task exec arguments", () => {
  it("passes the command's own flags through and exits with the command's code", async () => {
    const mod = await import("../../../src/commands/task/exec.js");
    let got: unknown[] = [];
    vi.resetModules();
    vi.doMock("../../../src/commands/task/exec.js", () => ({
      ...mod,
      runExec: async (...args: unknown[]) => {
        got = args;
        return 7;
      },
    }));
    const { runCli } = await import("../../../src/cli.js");
    expect(await runCli(["task", "exec", "-it", "-e", "A=1", "-u", "0", "web.1", "ls", "-la", "/"])).toBe(7);
    expect(got[1]).toBe("web.1");
    expect(got[2]).toEqual(["ls", "-la", "/"]);
    expect(got[3]).toMatchObject({ interactive: true, tty: true, env: ["A=1"], user: "0" });
    vi.doUnmock("../../../src/commands/task/exec.js");
  });
});
