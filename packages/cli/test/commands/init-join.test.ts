// shoal init and shoal join as dry runs: what they would write and start, with nothing touched.
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../../src/cli.js";

async function dryRun(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  const code = await runCli(argv);
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => {
  vi.restoreAllMocks();
});

const dirs = ["--config-dir", "/nonexistent/etc", "--data-root", "/nonexistent/lib", "--log-dir", "/nonexistent/log"];

describe("shoal init --dry-run", () => {
  it("shows the manager's and agent's files, the starts and the join commands", async () => {
    const { code, out } = await dryRun(
      "init",
      "--dry-run",
      "--no-systemd",
      "--start",
      "--advertise",
      "10.0.0.1:4242",
      "--agent-opt",
      "hostname=h1",
      ...dirs,
    );
    expect(code).toBe(0);
    expect(out).toContain(
      'would write /nonexistent/etc/manager.json (mode 0600):\n    {\n      "data-dir": "/nonexistent/lib/manager",',
    );
    expect(out).toContain('"advertise": "10.0.0.1:4242"');
    expect(out).toContain("would start in the background: shoal manager --config /nonexistent/etc/manager.json");
    expect(out).toContain('"hostname": "h1"');
    expect(out).toMatch(
      /To add a worker to this cluster, run on it:\n\n {4}shoal join --token SWMTKN-1-\S+ 10.0.0.1:4242\n/,
    );
    expect(out).toContain(
      "would get the agent's certificate (as the manager's node) in /nonexistent/lib/agent/certificates",
    );
    expect(out).not.toContain('"token"');
    expect(out).toContain("    export SHOAL_MANAGER=10.0.0.1:4242 SHOAL_TLS_DIR=/nonexistent/lib/manager/client\n");
    expect(out).toContain("(a dry run: nothing was written or started)");
  });

  it("without systemd or --start, says how to start the manager and add this machine as an agent", async () => {
    const { code, out } = await dryRun("init", "--dry-run", "--no-systemd", "--advertise", "10.0.0.1:4242", ...dirs);
    expect(code).toBe(0);
    expect(out).toContain("    shoal manager --config /nonexistent/etc/manager.json\n");
    expect(out).toContain("    export SHOAL_MANAGER=10.0.0.1:4242 SHOAL_TLS_DIR=/nonexistent/lib/manager/client\n");
    expect(out).toContain(
      "shoal agent --manager 10.0.0.1:4242 --data-dir /nonexistent/lib/agent --manager-cert-dir /nonexistent/lib/manager/certificates",
    );
  });

  it("--no-agent writes no agent", async () => {
    const { out } = await dryRun(
      "init",
      "--dry-run",
      "--no-systemd",
      "--start",
      "--no-agent",
      "--advertise",
      "10.0.0.1:4242",
      ...dirs,
    );
    expect(out).not.toContain("agent.json");
  });
});

describe("shoal join --dry-run", () => {
  it("with a worker token writes an agent of the given managers", async () => {
    const { code, out } = await dryRun(
      "join",
      "--dry-run",
      "--no-systemd",
      "--role",
      "worker",
      "--token",
      "SWMTKN-1-w",
      "10.0.0.1:4242,10.0.0.2:4242",
      ...dirs,
    );
    expect(code).toBe(0);
    expect(out).toContain('"manager": "10.0.0.1:4242,10.0.0.2:4242"');
    // The agent starts joined: join writes its certificate, not the token, to its data dir.
    expect(out).not.toContain("SWMTKN-1-w");
    expect(out).toContain("the certificate of the agent to /nonexistent/lib/agent/certificates");
    expect(out).not.toContain("manager.json");
    expect(out).toContain("    shoal agent --config /nonexistent/etc/agent.json\n");
  });

  it("with a manager token writes a manager that joins, and an agent that asks it first", async () => {
    const { code, out } = await dryRun(
      "join",
      "--dry-run",
      "--no-systemd",
      "--role",
      "manager",
      "--advertise",
      "10.0.0.3:4242",
      "--token",
      "SWMTKN-1-m",
      "10.0.0.1:4242",
      ...dirs,
    );
    expect(code).toBe(0);
    expect(out).toContain('"join": "10.0.0.1:4242"');
    expect(out).not.toContain("SWMTKN-1-m");
    expect(out).toContain(
      "the certificate of the manager to /nonexistent/lib/manager/certificates, " +
        "and the agent's (as the manager's node) to /nonexistent/lib/agent/certificates",
    );
    expect(out).toContain('"manager": "10.0.0.3:4242,10.0.0.1:4242"');
  });

  it("refuses a bad --role or a bad manager address", async () => {
    expect(await dryRun("join", "--dry-run", "--role", "boss", "--token", "SWMTKN-1-m", "10.0.0.1:4242")).toMatchObject(
      {
        code: 1,
        err: 'shoal: --role: "boss": expected worker or manager\n',
      },
    );
    expect(await dryRun("join", "--dry-run", "--role", "worker", "--token", "SWMTKN-1-m", "nowhere")).toMatchObject({
      code: 1,
      err: 'shoal: MANAGER: "nowhere" is not a HOST:PORT address\n',
    });
  });

  it("takes --role with --dry-run only: the token decides the role", async () => {
    expect(await dryRun("join", "--role", "worker", "--token", "SWMTKN-1-m", "10.0.0.1:4242", ...dirs)).toMatchObject({
      code: 1,
      err: "shoal: --role goes with --dry-run only: the token decides the role (the CA names it in the certificate)\n",
    });
  });

  it("refuses a bad --agent-opt before it joins", async () => {
    const { code, err } = await dryRun(
      "join",
      "--dry-run",
      "--token",
      "SWMTKN-1-m",
      "10.0.0.1:4242",
      "--agent-opt",
      "no-such-key=1",
      ...dirs,
    );
    expect(code).toBe(1);
    expect(err).toContain('config file --agent-opt: "no-such-key": unknown key');
    expect(err).not.toContain("would join");
  });
});
