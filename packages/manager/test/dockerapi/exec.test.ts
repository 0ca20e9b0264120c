import { describe, expect, it } from "vitest";
import {
  ExecStore,
  FINISHED_TTL_MS,
  MAX_EXECS,
  UNSTARTED_TTL_MS,
  checkStartBody,
  parseExecConfig,
} from "../../src/dockerapi/exec.js";

describe("parseExecConfig", () => {
  it("takes Docker's ExecConfig, with the console size when there is one", () => {
    const { config, size } = parseExecConfig({
      Cmd: ["sh", "-c", "echo hi"],
      Env: ["A=1"],
      User: "1000",
      WorkingDir: "/tmp",
      Tty: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: false,
      DetachKeys: "ctrl-x",
      ConsoleSize: [30, 100],
      Unknown: 1,
    });
    expect(config).toEqual({
      cmd: ["sh", "-c", "echo hi"],
      env: ["A=1"],
      user: "1000",
      workingDir: "/tmp",
      tty: true,
      attachStdin: true,
      attachStdout: true,
      attachStderr: false,
      privileged: false,
      detachKeys: "ctrl-x",
    });
    expect(size).toEqual({ height: 30, width: 100 });
    expect(parseExecConfig({ Cmd: ["true"], ConsoleSize: [0, 0] }).size).toBeUndefined();
  });

  it("refuses a missing command and wrong types, naming the field", () => {
    expect(() => parseExecConfig({})).toThrow(/No exec command specified/);
    expect(() => parseExecConfig({ Cmd: "ls" })).toThrow(/Cmd/);
    expect(() => parseExecConfig({ Cmd: ["ls"], Env: [1] })).toThrow(/Env/);
    expect(() => parseExecConfig({ Cmd: ["ls"], Tty: "yes" })).toThrow(/Tty/);
    expect(() => parseExecConfig([])).toThrow(/body/);
  });
});

describe("checkStartBody", () => {
  it("refuses a detached start", () => {
    expect(() => checkStartBody({ Detach: true })).toThrow(/detached exec is not supported/);
    expect(() => checkStartBody({ Detach: false, Tty: true })).not.toThrow();
  });
});

describe("ExecStore", () => {
  const config = parseExecConfig({ Cmd: ["true"] }).config;

  it("gives random ids, answers Docker's 404 for an unknown one", () => {
    const store = new ExecStore(() => 0);
    const a = store.add("web.1", "c1", config, undefined);
    const b = store.add("web.1", "c1", config, undefined);
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
    expect(a.id).not.toBe(b.id);
    expect(store.get(a.id)).toBe(a);
    expect(() => store.get("nope")).toThrow("No such exec instance: nope");
  });

  it("forgets finished and never started execs after a while, never running ones, and is bounded", () => {
    let now = 0;
    const store = new ExecStore(() => now);
    const unstarted = store.add("web.1", "c1", config, undefined);
    const finished = store.add("web.1", "c1", config, undefined);
    const running = store.add("web.1", "c1", config, undefined);
    now = UNSTARTED_TTL_MS - 1;
    Object.assign(finished, { state: "exited", endedAt: now, exitCode: 0 });
    running.state = "running";
    store.prune();
    expect(store.get(unstarted.id)).toBe(unstarted);
    now = UNSTARTED_TTL_MS + 1;
    store.prune();
    expect(() => store.get(unstarted.id)).toThrow(/No such exec/);
    expect(store.get(finished.id).exitCode).toBe(0);
    now += FINISHED_TTL_MS;
    store.prune();
    expect(() => store.get(finished.id)).toThrow(/No such exec/);
    expect(store.get(running.id)).toBe(running);
    for (let i = 1; i < MAX_EXECS; i++) store.add("web.1", "c1", config, undefined);
    expect(() => store.add("web.1", "c1", config, undefined)).toThrow(/too many execs/);
  });
});
