import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import {
  advertiseAddr,
  daemonPaths,
  settingsOf,
  shoalCommand,
  startDaemon,
  writeDaemonConfig,
  type HostSetup,
} from "../../src/commands/host-setup.js";
import { daemonSchemas } from "../../src/commands/init.js";

/** The in-memory twin of a machine: files in a map, commands and starts in a list. */
class RecordingSetup implements HostSetup {
  readonly files = new Map<string, { text: string; mode: number }>();
  readonly calls: string[] = [];
  async writeFile(path: string, text: string, mode: number): Promise<void> {
    this.files.set(path, { text, mode });
  }
  async run(command: string, args: readonly string[]): Promise<void> {
    this.calls.push([command, ...args].join(" "));
  }
  async startDetached(args: readonly string[], logFile: string, pidFile: string): Promise<number> {
    this.calls.push(`start shoal ${args.join(" ")} log=${logFile} pid=${pidFile}`);
    return 42;
  }
  async exists(path: string): Promise<boolean> {
    return this.files.has(path);
  }
}

const schemas = daemonSchemas(buildProgram());
const paths = daemonPaths("agent", { configDir: "/etc/shoal", logDir: "/var/log/shoal", dataRoot: "/var/lib/shoal" });

describe("writeDaemonConfig", () => {
  it("writes checked settings, 0600, and keeps an existing file unless forced", async () => {
    const setup = new RecordingSetup();
    const settings = { manager: ["10.0.0.1:4242"], "data-dir": "/var/lib/shoal/agent", token: "SWMTKN-1-x" };
    await writeDaemonConfig(setup, paths.configFile, settings, schemas.agent, false);
    expect(setup.files.get("/etc/shoal/agent.json")).toEqual({
      text: '{\n  "manager": "10.0.0.1:4242",\n  "data-dir": "/var/lib/shoal/agent",\n  "token": "SWMTKN-1-x"\n}\n',
      mode: 0o600,
    });
    await expect(writeDaemonConfig(setup, paths.configFile, settings, schemas.agent, false)).rejects.toThrow(
      /\/etc\/shoal\/agent.json exists: .* --force/,
    );
    await writeDaemonConfig(setup, paths.configFile, { ...settings, token: "SWMTKN-1-y" }, schemas.agent, true);
    expect(setup.files.get("/etc/shoal/agent.json")?.text).toContain("SWMTKN-1-y");
  });

  it("refuses settings the daemon would refuse, writing nothing", async () => {
    const setup = new RecordingSetup();
    await expect(
      writeDaemonConfig(setup, paths.configFile, { manager: "nowhere", "data-dir": "/a" }, schemas.agent, false),
    ).rejects.toThrow(/config file \/etc\/shoal\/agent.json: "manager": "nowhere" is not HOST:PORT addresses/);
    expect(setup.files.size).toBe(0);
  });
});

describe("startDaemon", () => {
  it("with systemd: writes the unit, reloads, enables and starts it", async () => {
    const setup = new RecordingSetup();
    const line = await startDaemon(setup, "systemd", "agent", paths);
    const [node, shoal] = shoalCommand();
    expect(setup.files.get("/etc/systemd/system/shoal-agent.service")?.text).toContain(
      `ExecStart=${node} ${shoal} agent --config /etc/shoal/agent.json`,
    );
    expect(setup.calls).toEqual(["systemctl daemon-reload", "systemctl enable --now shoal-agent.service"]);
    expect(line).toMatch(/journalctl -u shoal-agent.service/);
  });

  it("in the background: starts it with its log and pid files", async () => {
    const setup = new RecordingSetup();
    const line = await startDaemon(setup, "background", "agent", paths);
    expect(setup.calls).toEqual([
      "start shoal agent --config /etc/shoal/agent.json log=/var/log/shoal/agent.log pid=/var/lib/shoal/agent.pid",
    ]);
    expect(line).toContain("pid 42");
    expect(setup.files.size).toBe(0);
  });

  it("otherwise: only says the command", async () => {
    const setup = new RecordingSetup();
    expect(await startDaemon(setup, "print", "manager", paths)).toBe(
      "manager: shoal manager --config /etc/shoal/agent.json",
    );
    expect(setup.calls).toEqual([]);
  });
});

describe("settingsOf", () => {
  it("types KEY=VALUE pairs by the daemon's keys", () => {
    expect(
      settingsOf(["unsafe-no-fsync", "log-level=debug", "metrics-addr=0.0.0.0:9242"], "--manager-opt", schemas.manager),
    ).toEqual({ "unsafe-no-fsync": true, "log-level": "debug", "metrics-addr": "0.0.0.0:9242" });
    expect(settingsOf(["label=a=1", "label=b=2"], "--agent-opt", schemas.agent)).toEqual({ label: ["a=1", "b=2"] });
    expect(() => settingsOf(["=x"], "--agent-opt", schemas.agent)).toThrow(/has no key/);
  });
});

describe("advertiseAddr", () => {
  it("is --advertise, else a --listen that names a host", () => {
    expect(advertiseAddr("0.0.0.0:4242", "10.0.0.1:4242")).toBe("10.0.0.1:4242");
    expect(advertiseAddr("10.0.0.2:4242", undefined)).toBe("10.0.0.2:4242");
  });
});
