// The rest of the container spec on the host's real dockerd: one task with every field set, run
// by the agent's DockerExecutor, then checked as a user would, with `docker inspect` of its
// container and commands run inside it. Its containers carry com.shoal.e2e.run=<run> and are
// removed by that label afterwards.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { MountType, NodeDescription, Task, TaskState, silentLogger, type DeepPartial } from "@shoal/shared";
import { DockerExecutor, doTask, type Controller } from "@shoal/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../harness/image.js";

const run = promisify(execFile);
const RUN = randomBytes(3).toString("hex");
const NODE = `e2enode${RUN}`;
const RUN_LABEL = "com.shoal.e2e.run";
const node = {
  id: NODE,
  description: NodeDescription.fromPartial({ hostname: "hosta", platform: { os: "linux", architecture: "x86_64" } }),
};
let image: string;
let executor: DockerExecutor;
const controllers: Controller[] = [];

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { timeout: 20_000 });
  return stdout.trim();
}

const inspect = async (name: string, format: string): Promise<unknown> =>
  JSON.parse(await docker("inspect", "--format", `{{json ${format}}}`, name)) as unknown;

/** Steps the task until it runs, as the agent's runner would; returns its final state. */
async function runTask(task: Task, controller: Controller): Promise<TaskState> {
  const signal = AbortSignal.timeout(60_000);
  let current = task;
  for (;;) {
    const step = await doTask(current, controller, signal);
    if (step.outcome === "noop" || step.status.state >= TaskState.RUNNING) return step.status.state;
    if (step.outcome === "retry") await new Promise((r) => setTimeout(r, 100));
    current = { ...current, status: step.status };
  }
}

beforeAll(async () => {
  image = await ensureBaseImage();
  executor = new DockerExecutor({ logger: silentLogger(), nodeId: NODE, backoff: { initialMs: 50, maxMs: 200 } });
});

afterAll(async () => {
  for (const c of controllers) c.close();
  await executor?.close();
  const ids = await docker("ps", "-aq", "--filter", `label=${RUN_LABEL}=${RUN}`);
  if (ids !== "") await docker("rm", "-f", "-v", ...ids.split("\n"));
});

describe("the whole container spec on a real dockerd", () => {
  it("honours every field: inspect shows them and the container lives by them", async () => {
    const task = Task.fromPartial({
      id: `t${RUN}001`,
      serviceId: `s${RUN}`,
      slot: 2,
      nodeId: NODE,
      serviceAnnotations: { name: `e2e-${RUN}-spec`, labels: { zone: "eu" } },
      desiredState: TaskState.RUNNING,
      status: { state: TaskState.ASSIGNED },
      spec: {
        container: {
          image,
          args: ["sleep", "300"],
          env: ["WHERE={{.Node.Hostname}}/{{.Task.Slot}}/{{index .Service.Labels `zone`}}"],
          labels: { [RUN_LABEL]: RUN },
          hostname: "{{.Node.Hostname}}-{{.Task.Slot}}",
          groups: ["1234", "2345"],
          tty: true,
          openStdin: true,
          readOnly: true,
          init: true,
          capabilityAdd: ["NET_ADMIN"],
          capabilityDrop: ["CAP_CHOWN"],
          sysctls: { "net.core.somaxconn": "1024" },
          ulimits: [{ name: "nofile", soft: 1024, hard: 2048 }],
          hosts: ["10.0.0.1 db db.local"],
          dnsConfig: { nameservers: ["10.0.0.53"], search: ["example.org"], options: ["ndots:2"] },
          isolation: "default",
          // A template in a mount is expanded too (a tmpfs: nothing left on the host).
          mounts: [{ type: MountType.TMPFS, target: "/scratch-{{.Task.Slot}}" }],
        },
        logDriver: { name: "json-file", options: { "max-size": "1m" } },
        resources: { limits: { pids: 64 } },
      },
    } as DeepPartial<Task>);
    const controller = executor.controller(task, { node });
    controllers.push(controller);
    expect(await runTask(task, controller)).toBe(TaskState.RUNNING);

    const name = `e2e-${RUN}-spec.2.${task.id}`;
    expect(await inspect(name, ".Config.Hostname")).toBe("hosta-2");
    expect(await inspect(name, ".Config.Env")).toContain("WHERE=hosta/2/eu");
    expect(await inspect(name, ".Config.Tty")).toBe(true);
    expect(await inspect(name, ".Config.OpenStdin")).toBe(true);
    const host = (await inspect(name, ".HostConfig")) as Record<string, unknown>;
    expect(host).toMatchObject({
      GroupAdd: ["1234", "2345"],
      ReadonlyRootfs: true,
      Init: true,
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["CAP_CHOWN"],
      Sysctls: { "net.core.somaxconn": "1024" },
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
      ExtraHosts: ["db:10.0.0.1", "db.local:10.0.0.1"],
      Dns: ["10.0.0.53"],
      DnsSearch: ["example.org"],
      DnsOptions: ["ndots:2"],
      Isolation: "default",
      LogConfig: { Type: "json-file", Config: { "max-size": "1m" } },
      PidsLimit: 64,
    });

    // From inside, as the process sees it.
    const inside = (script: string): Promise<string> => docker("exec", name, "sh", "-c", script);
    expect(await inside("hostname")).toBe("hosta-2");
    expect(await inside("cat /etc/hosts")).toMatch(/^10\.0\.0\.1\s+db$/m);
    const resolv = await inside("cat /etc/resolv.conf");
    for (const line of ["nameserver 10.0.0.53", "search example.org", "options ndots:2"])
      expect(resolv).toContain(line);
    expect(await inside("id -G")).toBe("0 1234 2345");
    expect(await inside("cat /proc/1/comm")).toBe("docker-init");
    expect(await inside("cat /proc/sys/net/core/somaxconn")).toBe("1024");
    // The limits of the task's own processes (pid 1 is docker-init, and its child the command). Not
    // those of a shell started by `docker exec`: some runc builds (Debian's 1.1.5 on Go 1.19+) give
    // an exec'd process a soft limit raised to the hard one, whatever the container was given.
    const openFiles = await inside(
      "grep 'open files' /proc/1/limits /proc/$(cat /proc/1/task/1/children | cut -d' ' -f1)/limits",
    );
    expect(openFiles.split("\n").map((l) => l.split(/\s+/).slice(3, 5).join(" "))).toEqual(["1024 2048", "1024 2048"]);
    expect(await inside("cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max")).toBe("64");
    expect(await inside("touch /x 2>&1; echo rc=$?")).toMatch(/Read-only file system[\s\S]*rc=1/);
    expect(await inside("touch /scratch-2/x && echo ok")).toBe("ok");
  });
});
