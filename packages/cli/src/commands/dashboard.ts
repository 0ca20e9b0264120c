// shoal dashboard login|sessions|revoke: the web dashboard's credentials (docs/dashboard.md). A
// login link is single-use and short-lived; the browser that opens it gets a session, listed and
// revoked here.
import type { Command } from "commander";
import { InvalidArgumentError, durationFromMs, type DashboardSessionInfo } from "@shoal/shared";
import { MANAGER_HELP, withControl } from "../client.js";
import { parseDuration } from "../output/duration.js";
import { formatTable } from "../output/table.js";

/** The login links of a CreateDashboardLogin answer, one per dashboard. */
export function loginLinks(urls: readonly string[], token: string): string[] {
  return urls.map((u) => `${u.replace(/\/+$/, "")}/login?token=${encodeURIComponent(token)}`);
}

export interface SessionRow {
  readonly id: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: "session" | "link";
}

export function sessionRows(sessions: readonly DashboardSessionInfo[]): SessionRow[] {
  return sessions.map((s) => ({
    id: s.id,
    createdBy: s.createdBy,
    createdAt: s.createdAt?.toISOString() ?? "",
    expiresAt: s.expiresAt?.toISOString() ?? "",
    state: s.redeemed ? "session" : "link",
  }));
}

export function sessionTable(rows: readonly SessionRow[]): string {
  return formatTable(
    ["ID", "STATE", "CREATED BY", "CREATED", "EXPIRES"],
    rows.map((r) => [r.id, r.state, r.createdBy, r.createdAt, r.expiresAt]),
  );
}

function ttlFlag(value: string | undefined, flag: string): { seconds: number; nanos: number } | undefined {
  return value === undefined ? undefined : durationFromMs(parseDuration(value, flag));
}

export function registerDashboardCommands(program: Command): void {
  const dashboard = program.command("dashboard").description("the web dashboard's login links and sessions");
  dashboard
    .command("login")
    .description("print a one-time link that logs a browser in to the dashboard")
    .option("--link-ttl <duration>", "how long the link may wait to be opened (default 5m)")
    .option("--ttl <duration>", "how long the browser's session lasts (default 12h)")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: { linkTtl?: string; ttl?: string; manager?: string }) => {
      const linkTtl = ttlFlag(flags.linkTtl, "--link-ttl");
      const sessionTtl = ttlFlag(flags.ttl, "--ttl");
      const res = await withControl(flags.manager, (c) =>
        c.call("createDashboardLogin", { linkTtl, sessionTtl, createdBy: "" }),
      );
      if (res.urls.length === 0) {
        process.stderr.write(
          "no manager serves a dashboard (start one with shoal manager --dashboard HOST:PORT); " +
            `the link's token, for such a dashboard's /login?token=: ${res.token}\n`,
        );
        return;
      }
      for (const link of loginLinks(res.urls, res.token)) process.stdout.write(`${link}\n`);
      process.stderr.write(
        `Open one of these links in a browser before ${res.loginExpiresAt?.toISOString() ?? "it expires"}; ` +
          `it works once (session id ${res.id}).\n`,
      );
    });
  dashboard
    .command("sessions")
    .alias("ls")
    .description("list the dashboard's login links and browser sessions")
    .option("--json", "print JSON")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: { json?: boolean; manager?: string }) => {
      const { sessions } = await withControl(flags.manager, (c) => c.call("listDashboardSessions", {}));
      const rows = sessionRows(sessions);
      process.stdout.write(flags.json ? `${JSON.stringify(rows, null, 2)}\n` : sessionTable(rows));
    });
  dashboard
    .command("revoke")
    .description("end dashboard sessions (and unused links): by id, or --all")
    .argument("[ids...]", "session ids (or unique prefixes)")
    .option("--all", "revoke every session and link")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (ids: string[], flags: { all?: boolean; manager?: string }) => {
      if (flags.all && ids.length > 0)
        throw new InvalidArgumentError("give ids or --all, not both", { field: "--all" });
      if (!flags.all && ids.length === 0)
        throw new InvalidArgumentError("give session ids, or --all", { field: "ids" });
      const { revoked } = await withControl(flags.manager, (c) =>
        c.call("revokeDashboardSessions", { ids, all: flags.all === true }),
      );
      for (const id of revoked) process.stdout.write(`${id}\n`);
    });
}
