import { describe, expect, it } from "vitest";
import { systemdRunning, unitFile, unitName } from "../../src/commands/systemd-units.js";

describe("unitFile", () => {
  const manager = unitFile({
    role: "manager",
    node: "/usr/bin/node",
    shoal: "/usr/local/bin/shoal",
    configFile: "/etc/shoal/manager.json",
  });

  it("runs the installed shoal with the config file, restarting on failure", () => {
    expect(manager).toContain(
      "ExecStart=/usr/bin/node /usr/local/bin/shoal manager --config /etc/shoal/manager.json\n",
    );
    expect(manager).toContain("Restart=on-failure\n");
    expect(manager).toContain("After=network-online.target docker.service\n");
    expect(manager).toContain("LimitNOFILE=1048576\n");
    expect(manager).toContain("[Install]\nWantedBy=multi-user.target\n");
    expect(manager).toMatch(/^# Written by `shoal init`/);
  });

  it("makes the agent want Docker, and the manager not", () => {
    const agent = unitFile({ role: "agent", node: "/n", shoal: "/s", configFile: "/etc/shoal/agent.json" });
    expect(agent).toContain("Wants=network-online.target docker.service\n");
    expect(agent).toContain("ExecStart=/n /s agent --config /etc/shoal/agent.json\n");
    expect(manager).toContain("Wants=network-online.target\n");
  });

  it("quotes paths systemd would split or expand", () => {
    const unit = unitFile({ role: "agent", node: "/opt/my node/bin/node", shoal: "/s", configFile: "/etc/$x.json" });
    expect(unit).toContain('ExecStart="/opt/my node/bin/node" /s agent --config "/etc/$$x.json"\n');
  });

  it("names the units as the guide does", () => {
    expect(unitName("manager")).toBe("shoal-manager.service");
    expect(unitName("agent")).toBe("shoal-agent.service");
  });
});

describe("systemdRunning", () => {
  it("needs /run/systemd/system and a systemctl that answers", async () => {
    const ok = async (): Promise<void> => undefined;
    const fails = async (): Promise<void> => {
      throw new Error("System has not been booted with systemd");
    };
    expect(await systemdRunning({ exists: async () => true, run: ok })).toBe(true);
    expect(await systemdRunning({ exists: async () => true, run: fails })).toBe(false);
    expect(await systemdRunning({ exists: async () => false, run: ok })).toBe(false);
  });
});
