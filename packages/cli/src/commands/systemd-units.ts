// systemd units for the daemons (shoal-manager.service, shoal-agent.service), as `shoal init`
// and `shoal join` install them where systemd runs. The unit runs the `shoal` that wrote it, with
// the node that runs it now (absolute paths: systemd's PATH may not hold a node installed with
// nvm or in /opt), and reads everything else from the daemon's config file.
import { access } from "node:fs/promises";

export type DaemonRole = "manager" | "agent";

export const SYSTEMD_UNIT_DIR = "/etc/systemd/system";

export function unitName(role: DaemonRole): string {
  return `shoal-${role}.service`;
}

export interface UnitOptions {
  readonly role: DaemonRole;
  /** The node binary, e.g. /usr/bin/node (process.execPath). */
  readonly node: string;
  /** The installed `shoal` command, e.g. /usr/local/bin/shoal. */
  readonly shoal: string;
  /** The daemon's config file, e.g. /etc/shoal/manager.json. */
  readonly configFile: string;
}

/** A word of ExecStart=: quoted when it holds anything systemd would split or expand. */
function word(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, "\\$1").replace(/\$/g, "$$$$")}"`;
}

const DESCRIPTION: Record<DaemonRole, string> = {
  manager: "Shoal manager (cluster state, scheduling, API)",
  agent: "Shoal agent (runs this host's tasks on Docker)",
};

/**
 * The unit file's text. Ordered after Docker and the network (After= orders only: a manager
 * starts without Docker); the agent also Wants docker.service, as it cannot work without it.
 * Restart=on-failure: the daemons exit 0 on SIGTERM (systemctl stop), non-zero on failure.
 */
export function unitFile(options: UnitOptions): string {
  const exec = [options.node, options.shoal, options.role, "--config", options.configFile].map(word).join(" ");
  const wants = options.role === "agent" ? "network-online.target docker.service" : "network-online.target";
  return [
    "# Written by `shoal init` / `shoal join`; settings are in the config file named below.",
    "[Unit]",
    `Description=${DESCRIPTION[options.role]}`,
    "After=network-online.target docker.service",
    `Wants=${wants}`,
    "StartLimitIntervalSec=60",
    "StartLimitBurst=10",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec}`,
    "Restart=on-failure",
    "RestartSec=2s",
    "KillSignal=SIGTERM",
    "TimeoutStopSec=30s",
    "LimitNOFILE=1048576",
    "LimitNPROC=infinity",
    "TasksMax=infinity",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

export interface SystemdProbe {
  exists(path: string): Promise<boolean>;
  /** Runs a command; resolves when it exits 0, rejects otherwise. */
  run(command: string, args: readonly string[]): Promise<void>;
}

/**
 * Whether systemd manages this machine: it is PID 1 (/run/systemd/system exists, as
 * sd_booted(3) checks) and systemctl can talk to it. Containers and CI runners fail the first.
 */
export async function systemdRunning(probe: SystemdProbe): Promise<boolean> {
  if (!(await probe.exists("/run/systemd/system"))) return false;
  return probe.run("systemctl", ["show", "--property=Version"]).then(
    () => true,
    () => false,
  );
}

export async function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
