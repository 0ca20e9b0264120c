// A real application stack through the stock docker CLI: `docker stack deploy` of a compose file
// that uses a named volume, secrets and configs from files, hostname templates, healthchecks and
// container options (init, read-only root, capabilities, sysctls, ulimits, extra hosts, tmpfs),
// on one manager and two agent hosts with their own dockerds. Every service converges; each
// option is checked on the running containers as a user would (docker inspect, files read from
// inside); the secret's bytes appear in no API answer and no manager or agent log; `docker stack
// rm` removes the services, secrets and configs and keeps the volume.
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Host } from "./harness/index.js";
import { TestControl } from "./support/control-client.js";
import { startAgents } from "./support/agents.js";
import { dockerApiAddress } from "./support/docker-api.js";
import { dockerCli, type DockerCli } from "./support/docker-cli.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { freePort, type ShoalProcess } from "./support/shoal-process.js";

const COMPOSE = fileURLToPath(new URL("./stack-app/compose.yml", import.meta.url));
const DB_PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const API_KEY = `key-${randomBytes(12).toString("hex")}`;
const APP_CONF = "listen = 8080\n";

let harness: Harness;
let root = "";
let stackDir = "";
let manager: ShoalProcess | undefined;
let docker: DockerCli;
const control = new TestControl();

interface Container {
  readonly host: Host;
  readonly id: string;
}

/** The running containers of a stack service, on whichever hosts run them. */
async function containersOf(service: string): Promise<Container[]> {
  const out: Container[] = [];
  for (const host of harness.hosts) {
    const ps = await host.docker(["ps", "-q", "--filter", `label=com.shoal.service.name=${service}`]);
    for (const id of ps.stdout.split("\n").filter(Boolean)) out.push({ host, id });
  }
  return out;
}

async function inspect(c: Container, format: string): Promise<string> {
  return (await c.host.docker(["inspect", "--format", format, c.id])).stdout.trim();
}

/** Runs a shell command in the container (busybox's applets are reached through its sh). */
async function execIn(c: Container, script: string): Promise<{ code: number | null; out: string }> {
  const r = await c.host.docker(["exec", c.id, "sh", "-c", script], { check: false });
  return { code: r.exitCode, out: r.stdout.trim() + r.stderr.trim() };
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-stack-app-"));
  stackDir = join(root, "stack");
  await mkdir(stackDir);
  await copyFile(COMPOSE, join(stackDir, "compose.yml"));
  await writeFile(join(stackDir, "db_password.txt"), DB_PASSWORD);
  await writeFile(join(stackDir, "api_key.txt"), API_KEY);
  await writeFile(join(stackDir, "app.conf"), APP_CONF);
  const [m] = await startManagerCluster({
    count: 1,
    root,
    control,
    addr: async () => `${harness.gateway}:${await freePort()}`,
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
  });
  manager = m!.proc;
  docker = dockerCli(`tcp://${await dockerApiAddress(join(root, "m0.log"))}`, root);
  const token = (await joinTokens(control, m!.addr)).worker;
  await startAgents(harness.hosts, { control, managers: [m!.addr], token });
});

afterAll(async () => {
  control.close();
  await manager?.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("docker stack deploy of an application stack", () => {
  it("deploys volumes, secrets, configs, templates and container options, and every service converges", async () => {
    const image = harness.baseImage;
    const deploy = await docker.run(["stack", "deploy", "-c", "compose.yml", "app"], {
      env: { IMAGE: image },
      cwd: stackDir,
    });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stdout).toContain("Creating secret app_db_password");
    expect(deploy.stdout).toContain("Creating config app_app_conf");
    await expect
      .poll(async () => (await docker.ok(["stack", "services", "app", "--format", "{{.Name}} {{.Replicas}}"])).trim(), {
        timeout: 90_000,
        interval: 500,
      })
      .toBe("app_db 1/1\napp_web 2/2");

    // db: the hostname template, the secret at its default place, the volume the stack made.
    const [db] = await containersOf("app_db");
    expect(db, "the db container").toBeDefined();
    expect(await inspect(db!, "{{.Config.Hostname}}")).toBe(`${db!.host.name}-db1`);
    expect((await execIn(db!, "cat /run/secrets/db_password")).out).toBe(DB_PASSWORD);
    expect((await execIn(db!, "cat /data/seen")).out).toBe(DB_PASSWORD);
    const volume = await db!.host.docker(["volume", "inspect", "--format", "{{json .Labels}}", "app_dbdata"]);
    expect(JSON.parse(volume.stdout)).toMatchObject({ "com.docker.stack.namespace": "app" });
    await expect.poll(() => inspect(db!, "{{.State.Health.Status}}"), { timeout: 30_000 }).toBe("healthy");

    // web: two tasks, each with its own slot in its hostname and every container option applied.
    const web = await containersOf("app_web");
    expect(web).toHaveLength(2);
    const hostnames = await Promise.all(web.map((c) => inspect(c, "{{.Config.Hostname}}")));
    expect(hostnames.sort()).toEqual(["web-1", "web-2"]);
    for (const c of web) {
      expect(await inspect(c, "{{.HostConfig.Init}}")).toBe("true");
      expect(await inspect(c, "{{.HostConfig.ReadonlyRootfs}}")).toBe("true");
      expect(await inspect(c, "{{json .HostConfig.CapAdd}}")).toContain("NET_ADMIN");
      expect(await inspect(c, "{{json .HostConfig.CapDrop}}")).toContain("MKNOD");
      expect(await inspect(c, '{{index .HostConfig.Sysctls "net.core.somaxconn"}}')).toBe("1024");
      expect(JSON.parse(await inspect(c, "{{json .HostConfig.Ulimits}}"))).toEqual([
        { Name: "nofile", Soft: 1024, Hard: 2048 },
      ]);
      expect(await inspect(c, "{{json .Config.Env}}")).toContain(`NODE=${c.host.name}`);
      expect((await execIn(c, "cat /etc/hosts")).out).toMatch(/10\.0\.0\.5\s+db\.internal/);
      // The secret with its target, owner and mode; the config at its absolute target.
      expect((await execIn(c, "cat /run/secrets/key")).out).toBe(API_KEY);
      expect((await execIn(c, "stat -c '%a %u %g' /run/secrets/key")).out).toBe("400 100 101");
      expect((await execIn(c, "cat /etc/app.conf")).out).toBe(APP_CONF.trim());
      // A read-only root, a writable tmpfs.
      expect((await execIn(c, "touch /root-file")).code).not.toBe(0);
      expect((await execIn(c, "touch /scratch/ok")).code).toBe(0);
      expect((await execIn(c, "touch /run/secrets/key")).code).not.toBe(0);
      await expect.poll(() => inspect(c, "{{.State.Health.Status}}"), { timeout: 30_000 }).toBe("healthy");
    }
  });

  it("never shows the secret's bytes: not in inspect, not in the API, not in any log", async () => {
    const shown = [
      await docker.ok(["secret", "inspect", "app_db_password"]),
      await docker.ok(["secret", "ls"]),
      await docker.ok(["service", "inspect", "app_db"]),
      await docker.ok(["service", "inspect", "app_web"]),
    ].join("\n");
    expect(shown).toContain("app_db_password");
    expect(shown).not.toContain(DB_PASSWORD);
    expect(shown).not.toContain(Buffer.from(DB_PASSWORD).toString("base64"));
    // The config's data is not secret: docker config inspect shows it, as Docker does.
    const config = JSON.parse(await docker.ok(["config", "inspect", "app_app_conf"])) as { Spec: { Data: string } }[];
    expect(Buffer.from(config[0]!.Spec.Data, "base64").toString()).toBe(APP_CONF);
    const logs = [join(root, "m0.log"), ...harness.hosts.map((h) => h.logFile)];
    for (const log of logs) {
      const text = await readFile(log, "utf8");
      expect(text.length, `${log} is not empty`).toBeGreaterThan(0);
      expect(text.includes(DB_PASSWORD) || text.includes(API_KEY), `a secret in ${log}`).toBe(false);
    }
  });

  it("stack rm removes services, secrets and configs, and keeps the volume", async () => {
    const out = await docker.run(["stack", "rm", "app"]);
    expect(out.code, out.stderr).toBe(0);
    await expect.poll(async () => (await docker.ok(["service", "ls", "-q"])).trim(), { timeout: 30_000 }).toBe("");
    expect((await docker.ok(["secret", "ls", "-q"])).trim()).toBe("");
    expect((await docker.ok(["config", "ls", "-q"])).trim()).toBe("");
    await expect.poll(async () => (await containersOf("app_db")).length, { timeout: 30_000 }).toBe(0);
    const volumes = await Promise.all(harness.hosts.map(async (h) => (await h.docker(["volume", "ls", "-q"])).stdout));
    expect(volumes.join("\n")).toContain("app_dbdata");
  });
});
