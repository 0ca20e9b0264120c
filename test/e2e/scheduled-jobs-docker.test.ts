// A scheduled job through the stock docker CLI: Docker's API has no schedule, so the CLI must read
// a scheduled job as a job (ls, inspect) and a `docker service update` of it must keep its
// schedule. One manager with the Docker API and no agent: a scheduled job runs nothing until its
// tick, and nothing here waits for one.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScheduleOverlap } from "@shoal/shared";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { SHOAL_BIN, type ShoalProcess } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const run = promisify(execFile);
const DOCKER = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";
const control = new TestControl();
let root = "";
let manager: ShoalProcess | undefined;
let addr = "";
let dockerHost = "";

async function exec(file: string, args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await run(file, args, { timeout: 60_000, env: { ...process.env, ...env } });
  return stdout;
}

const shoal = (...args: string[]): Promise<string> =>
  exec(process.execPath, [SHOAL_BIN, ...args], { SHOAL_MANAGER: addr });

const docker = (...args: string[]): Promise<string> =>
  exec(DOCKER, args, {
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: root,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: testClientCertDir(),
  });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-cron-docker-"));
  const [m] = await startManagerCluster({
    count: 1,
    root,
    control,
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
  });
  manager = m!.proc;
  addr = m!.addr;
  let found = "";
  await waitUntil("the Docker API address in the manager's log", async () => {
    const log = await readFile(join(root, "m0.log"), "utf8");
    found = /"address":"([^"]+)","msg":"serving the Docker Engine API"/.exec(log)?.[1] ?? "";
    return found !== "";
  });
  dockerHost = `tcp://${found}`;
});

afterAll(async () => {
  control.close();
  await manager?.kill("SIGKILL");
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("a scheduled job through the docker CLI", () => {
  it("is listed and inspected as a job, and docker service update keeps its schedule", async () => {
    await shoal(
      ...["service", "create", "--name", "nightly", "--mode", "replicated-job", "--schedule", "0 3 * * *"],
      ...["--schedule-timezone", "Europe/Paris", "--schedule-overlap", "replace", "--detach", "busybox", "true"],
    );
    const ls = await docker("service", "ls", "--format", "{{.Name}} {{.Mode}}");
    expect(ls.trim()).toBe("nightly replicated job");
    const [inspected] = JSON.parse(await docker("service", "inspect", "nightly")) as {
      Spec: { Mode: Record<string, unknown>; TaskTemplate: { ContainerSpec: { Image: string } } };
    }[];
    expect(Object.keys(inspected!.Spec.Mode)).toEqual(["ReplicatedJob"]);
    // (This docker CLI's --pretty prints no mode for a job: only that it reads the service is checked.)
    expect(await docker("service", "inspect", "--pretty", "nightly")).toContain("Name:\t\tnightly\n");

    await docker("service", "update", "--detach", "--image", "busybox:1", "--env-add", "A=1", "nightly");
    const { service } = await control.call(addr, "getService", { serviceId: "nightly" });
    expect(service!.spec?.taskTemplate?.container?.image).toBe("busybox:1");
    expect(service!.spec?.taskTemplate?.container?.env).toEqual(["A=1"]);
    expect(service!.spec?.schedule).toEqual({
      cron: "0 3 * * *",
      timezone: "Europe/Paris",
      overlap: ScheduleOverlap.REPLACE,
    });
    // No run was started by the update (a scheduled job runs at its ticks, or on --force).
    expect(service!.jobStatus?.jobIteration?.index ?? 0).toBe(0);
    expect(await shoal("service", "inspect", "--pretty", "nightly")).toMatch(
      / Cron:\t\t0 3 \* \* \*\n Time zone:\tEurope\/Paris\n Overlap:\treplace\n Next tick:\t\S+T0[12]:00:00\.000Z/,
    );
  }, 120_000);
});
