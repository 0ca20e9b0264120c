// Secrets and configs on the manager side, on real processes: three managers (the CLI and the
// Docker API talk to a follower, so every write is forwarded to the leader) and two agent hosts.
// What a user sees: create, ls, inspect without a secret's data, a config's data shown, services
// that use them (references resolved), removal refused while in use, a rotation by
// --secret-rm/--secret-add as a rolling update, the stock docker CLI's secret commands and a
// stack with `secrets:` and `configs:` from files. No manager log and no manager data file holds
// a secret's bytes in clear. Inside the containers: the files, their owner and mode, and the
// rotated secret in the new tasks.
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskState, type Task } from "@shoal/shared";
import { createHarness, type Harness } from "./harness/index.js";
import { startAgents } from "./support/agents.js";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { dockerApiAddress } from "./support/docker-api.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { SHOAL_BIN, type ShoalProcess } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const DOCKER = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";
/** The secret's bytes: no answer, log or data file may show them. */
const MARKER = "s3cr3t-M4RK3R-7f1c9e";
const MARKER2 = "s3cr3t-R0T4T3D-2b8d41";
const STACK_MARKER = "s3cr3t-ST4CK-90aa3e";

let harness: Harness;
let root = "";
const managers: ShoalProcess[] = [];
const control = new TestControl();
let follower = "";
let dockerHost = "";

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], env: Record<string, string>, input?: string): Promise<Out> {
  return new Promise((resolve) => {
    const child =
      input === undefined
        ? execFile(file, args, { timeout: 120_000, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          )
        : spawn(file, args, { env: { ...process.env, ...env } });
    if (input === undefined) return;
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin!.end(input);
  });
}

const shoal = (args: string[], input?: string): Promise<Out> =>
  exec(process.execPath, [SHOAL_BIN, ...args], { SHOAL_MANAGER: follower }, input);

async function ok(args: string[], input?: string): Promise<string> {
  const r = await shoal(args, input);
  if (r.code !== 0) throw new Error(`shoal ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const docker = (args: string[], env: Record<string, string> = {}, input?: string): Promise<Out> =>
  exec(
    DOCKER,
    args,
    {
      DOCKER_HOST: dockerHost,
      DOCKER_CONFIG: root,
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: testClientCertDir(),
      ...env,
    },
    input,
  );

async function tasksOf(name: string): Promise<Task[]> {
  const { service } = await control.call(follower, "getService", { serviceId: name });
  const filters = { idPrefixes: [], serviceIds: [service!.id], nodeIds: [], desiredStates: [] };
  return (await control.call(follower, "listTasks", { filters })).tasks;
}

const running = (tasks: readonly Task[]): Task[] =>
  tasks.filter((t) => t.desiredState === TaskState.RUNNING && t.status?.state === TaskState.RUNNING);

/** Runs `sh -c script` in a running container of service `name` (on whichever host runs one). */
async function inContainer(name: string, script: string): Promise<string> {
  for (const h of harness.hosts) {
    const ps = await h.docker(["ps", "-q", "--filter", `label=com.shoal.service.name=${name}`]);
    const id = ps.stdout.split("\n").filter(Boolean)[0];
    if (id === undefined) continue;
    const out = await h.docker(["exec", id, "sh", "-c", script]);
    return out.stdout.trim();
  }
  throw new Error(`no container of ${name}`);
}

/** Every file under `dir`, as bytes. */
async function filesUnder(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, bytes: await readFile(path) });
  }
  return out;
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-secrets-"));
  const started = await startManagerCluster({
    count: 3,
    root,
    control,
    addr: (i) => `${harness.gateway}:${4790 + i}`,
    // debug: whatever the managers log, the secret's bytes must not be in it.
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync", "--log-level", "debug"],
  });
  for (const m of started) managers.push(m.proc);
  const addrs = started.map((m) => m.addr);
  const info = await control.call(addrs[0]!, "getInfo", {});
  const leader = info.raft!.members.findIndex((m) => m.leader);
  const f = leader === 1 ? 2 : 1;
  follower = addrs[f]!;
  dockerHost = `tcp://${await dockerApiAddress(join(root, `m${f}.log`))}`;
  const token = (await joinTokens(control, addrs[0]!)).worker;
  await startAgents(harness.hosts, { control, managers: addrs, token });
});

afterAll(async () => {
  control.close();
  for (const m of managers) await m.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("secrets and configs", () => {
  it("shoal secret|config create, ls, inspect: a secret's data is never shown, a config's is", async () => {
    const id = (await ok(["secret", "create", "db-pw", "-", "--label", "team=a"], MARKER)).trim();
    expect(id).toMatch(/^\w{25}$/);
    const ls = JSON.parse(await ok(["secret", "ls", "--json"])) as { id: string; name: string; labels: object }[];
    expect(ls).toEqual([expect.objectContaining({ id, name: "db-pw", labels: { team: "a" } })]);
    expect(await ok(["secret", "ls"])).toMatch(/^ID\s+NAME\s+CREATED\s+UPDATED\n\w+\s+db-pw\s/);
    const inspect = await ok(["secret", "inspect", "db-pw"]);
    expect(JSON.parse(inspect)).toEqual([expect.objectContaining({ id })]);
    expect(inspect).not.toContain(MARKER);
    expect(inspect).not.toContain(Buffer.from(MARKER).toString("base64"));

    const conf = join(root, "app.conf");
    await writeFile(conf, "listen 8080\n");
    await ok(["config", "create", "app.conf", conf]);
    expect(await ok(["config", "inspect", "--pretty", "app.conf"])).toMatch(
      /Name:\s+app\.conf[\s\S]*Data:\nlisten 8080/,
    );

    const taken = await shoal(["secret", "create", "db-pw", "-"], "other");
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('secret name "db-pw" is taken');
    const big = await shoal(["secret", "create", "big", "-"], "x".repeat(500 * 1024));
    expect(big.code).not.toBe(0);
    expect(big.stderr).toContain("spec.data");
  });

  it("a service takes them by name; in use they cannot be removed; a rotation reaches new tasks", async () => {
    const image = harness.baseImage;
    const missing = await shoal(["service", "create", "--name", "lost", "--secret", "nope", "-d", image, "sleep", "1"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("spec.task_template.container.secrets[0]");
    const bad = await shoal(["service", "create", "--name", "lost", "--secret", "source=db-pw,mode=0999", image]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--secret");
    expect(
      (await control.call(follower, "listServices", { filters: undefined, includeStatus: false })).services,
    ).toHaveLength(0);

    await ok([
      "service",
      "create",
      "--name",
      "web",
      "--replicas",
      "2",
      "--secret",
      "db-pw",
      "--secret",
      "source=db-pw,target=pw-copy,uid=1000,mode=0400",
      "--config",
      "source=app.conf,target=/etc/app.conf",
      "--update-delay",
      "0s",
      // The rollout is followed until its last task has been watched for the monitor period.
      "--update-monitor",
      "1s",
      // `sleep` as PID 1 ignores SIGTERM: each old task of the rotation would wait out the
      // default 10 s grace before its SIGKILL.
      "--stop-grace-period",
      "1s",
      image,
      "sleep",
      "3600",
    ]);
    const { service } = await control.call(follower, "getService", { serviceId: "web" });
    const secretId = (await control.call(follower, "getSecret", { secretId: "db-pw" })).secret!.id;
    expect(service!.spec!.taskTemplate!.container!.secrets).toEqual([
      { secretId, secretName: "db-pw", file: { name: "db-pw", uid: "0", gid: "0", mode: 0o444 } },
      { secretId, secretName: "db-pw", file: { name: "pw-copy", uid: "1000", gid: "0", mode: 0o400 } },
    ]);
    await waitUntil("2 running tasks of web", async () => running(await tasksOf("web")).length === 2);
    expect(await ok(["service", "inspect", "web"])).not.toContain(MARKER);
    expect(
      await inContainer("web", "cat /run/secrets/db-pw; echo; stat -c '%a %u' /run/secrets/pw-copy; cat /etc/app.conf"),
    ).toBe(`${MARKER}\n400 1000\nlisten 8080`);

    const inUse = await shoal(["secret", "rm", "db-pw"]);
    expect(inUse.code).not.toBe(0);
    expect(inUse.stderr).toContain("secret db-pw is in use by service web");
    expect((await shoal(["config", "rm", "app.conf"])).stderr).toContain("in use by service web");

    // Rotation: a new secret in place of the old, for the same file: a rolling update.
    await ok(["secret", "create", "db-pw-2", "-"], MARKER2);
    const newId = (await control.call(follower, "getSecret", { secretId: "db-pw-2" })).secret!.id;
    await ok(["service", "update", "--secret-rm", "db-pw", "--secret-add", "source=db-pw-2,target=db-pw", "web"]);
    await waitUntil("web's tasks to use db-pw-2 only", async () => {
      const live = running(await tasksOf("web"));
      return live.length === 2 && live.every((t) => t.spec!.container!.secrets.map((r) => r.secretId).join() === newId);
    });
    await waitUntil(
      "the rotated secret in a container",
      async () => (await inContainer("web", "cat /run/secrets/db-pw")) === MARKER2,
    );
    // --secret-rm takes every reference to db-pw away (as docker's); the new one has its file name.
    const refs = (await control.call(follower, "getService", { serviceId: "web" })).service!.spec!.taskTemplate!
      .container!.secrets;
    expect(refs.map((r) => `${r.secretName}:${r.file?.name}`)).toEqual(["db-pw-2:db-pw"]);

    await ok(["service", "rm", "web"]);
    await ok(["secret", "rm", "db-pw", "db-pw-2"]);
    await ok(["config", "rm", "app.conf"]);
    expect(JSON.parse(await ok(["secret", "ls", "--json"]))).toEqual([]);
  });

  it("the stock docker CLI: secret create from stdin, ls, inspect, service --secret, rm refused in use", async () => {
    const created = await docker(["secret", "create", "--label", "k=v", "dk", "-"], {}, MARKER);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(await docker(["secret", "ls", "--format", "{{.ID}} {{.Name}}"])).toMatchObject({ stdout: `${id} dk\n` });
    const inspect = await docker(["secret", "inspect", "dk"]);
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout)).toEqual([
      expect.objectContaining({ ID: id, Spec: { Name: "dk", Labels: { k: "v" } } }),
    ]);
    expect(inspect.stdout).not.toContain(Buffer.from(MARKER).toString("base64"));

    const svc = await docker([
      "service",
      "create",
      "-d",
      "--name",
      "dsvc",
      "--secret",
      "dk",
      harness.baseImage,
      "sleep",
      "3600",
    ]);
    expect(svc.code).toBe(0);
    const spec = await docker([
      "service",
      "inspect",
      "dsvc",
      "--format",
      "{{json .Spec.TaskTemplate.ContainerSpec.Secrets}}",
    ]);
    expect(JSON.parse(spec.stdout)).toEqual([
      { File: { Name: "dk", UID: "0", GID: "0", Mode: 0o444 }, SecretID: id, SecretName: "dk" },
    ]);
    const inUse = await docker(["secret", "rm", "dk"]);
    expect(inUse.code).not.toBe(0);
    expect(inUse.stderr).toContain("in use by service dsvc");
    expect((await docker(["service", "rm", "dsvc"])).code).toBe(0);
    expect(await docker(["secret", "rm", "dk"])).toMatchObject({ code: 0, stdout: "dk\n" });
  });

  it("docker stack deploy with secrets: and configs: from files, and stack rm removes them", async () => {
    const dir = await mkdtemp(join(root, "stack-"));
    await writeFile(join(dir, "pw.txt"), STACK_MARKER);
    await writeFile(join(dir, "app.conf"), "mode=stack\n");
    await writeFile(
      join(dir, "compose.yml"),
      [
        "services:",
        "  app:",
        `    image: ${harness.baseImage}`,
        '    command: ["sleep", "3600"]',
        "    secrets:",
        "      - db_pw",
        "      - source: db_pw",
        "        target: pw-again",
        "        mode: 0400",
        "    configs:",
        "      - source: app_conf",
        "        target: /etc/app.conf",
        "secrets:",
        "  db_pw:",
        "    file: ./pw.txt",
        "configs:",
        "  app_conf:",
        "    file: ./app.conf",
        "",
      ].join("\n"),
    );
    const deploy = await docker(["stack", "deploy", "-c", join(dir, "compose.yml"), "stk"]);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stdout).toContain("Creating secret stk_db_pw");
    expect(deploy.stdout).toContain("Creating config stk_app_conf");
    expect(deploy.stdout).toContain("Creating service stk_app");
    await expect
      .poll(async () => (await docker(["service", "ls", "--format", "{{.Name}} {{.Replicas}}"])).stdout.trim(), {
        timeout: 60_000,
      })
      .toBe("stk_app 1/1");
    expect(
      await inContainer("stk_app", "cat /run/secrets/db_pw; echo; stat -c %a /run/secrets/pw-again; cat /etc/app.conf"),
    ).toBe(`${STACK_MARKER}\n400\nmode=stack`);
    const conf = await docker(["config", "inspect", "stk_app_conf", "--format", '{{printf "%s" .Spec.Data}}']);
    expect(conf.stdout.trim()).toBe("mode=stack");
    // A second deploy of the same files updates nothing it may not (the data is the same).
    expect((await docker(["stack", "deploy", "-c", join(dir, "compose.yml"), "stk"])).code).toBe(0);

    const removed = await docker(["stack", "rm", "stk"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain("Removing secret stk_db_pw");
    await expect.poll(async () => (await docker(["secret", "ls", "-q"])).stdout, { timeout: 30_000 }).toBe("");
    expect((await docker(["config", "ls", "-q"])).stdout).toBe("");
  });

  it("no manager log and no manager data file holds a secret's bytes in clear", async () => {
    for (let i = 0; i < 3; i++) {
      const log = await readFile(join(root, `m${i}.log`), "utf8");
      expect(log.length).toBeGreaterThan(0);
      for (const marker of [MARKER, MARKER2, STACK_MARKER]) {
        expect(log, `m${i}.log`).not.toContain(marker);
        expect(log, `m${i}.log`).not.toContain(Buffer.from(marker).toString("base64"));
      }
      for (const { path, bytes } of await filesUnder(join(root, `m${i}`))) {
        for (const marker of [MARKER, MARKER2, STACK_MARKER]) expect(bytes.includes(marker), path).toBe(false);
      }
    }
  });
});
