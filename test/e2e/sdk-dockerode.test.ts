// dockerode drives Shoal through a manager's Docker Engine API as it drives a Docker swarm
// manager: the same areas as the docker-py suite (system, nodes, networks, services, tasks, logs,
// swarm, images), each answer checked against the shape Docker gives it. One manager, three agent
// hosts, the last one's agent stopped (its node is down).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ID,
  JOIN_TOKEN,
  PEM,
  TIME,
  expectMeta,
  expectNode,
  expectService,
  expectTask,
} from "./support/docker-shapes.js";
import { startSdkCluster, type SdkCluster } from "./support/sdk-cluster.js";
import { dial, fullSpec, logLines, runningTasks, statusOf, type Json } from "./support/dockerode-calls.js";

const SLEEP = ["sleep", "3600"];

let cluster: SdkCluster;
let docker: Docker;

beforeAll(async () => {
  cluster = await startSdkCluster("js");
  const colon = cluster.dockerApi.lastIndexOf(":");
  docker = new Docker({
    protocol: "https",
    host: cluster.dockerApi.slice(0, colon),
    port: Number(cluster.dockerApi.slice(colon + 1)),
    version: "v1.41",
    ca: await readFile(join(cluster.certDir, "ca.pem")),
    cert: await readFile(join(cluster.certDir, "cert.pem")),
    key: await readFile(join(cluster.certDir, "key.pem")),
  });
});

afterAll(async () => {
  await cluster?.dispose();
});

/** Creates a service, runs `body` with it, and removes it. */
async function withService<T>(spec: Json, body: (service: Docker.Service) => Promise<T>): Promise<T> {
  const service = await docker.createService(spec);
  try {
    return await body(service);
  } finally {
    await service.remove().catch(() => undefined);
  }
}

const inspect = async (s: Docker.Service): Promise<Json> => (await s.inspect()) as Json;
const sleeper = (name: string, more: Json = {}): Json => ({
  Name: name,
  TaskTemplate: { ContainerSpec: { Image: cluster.image, Args: SLEEP } },
  ...more,
});

describe("dockerode against Shoal", () => {
  it("ping and version", async () => {
    expect(String(await docker.ping())).toBe("OK");
    const v = (await docker.version()) as unknown as Json;
    expect(v).toMatchObject({ ApiVersion: "1.41", Os: "linux", Arch: "amd64" });
    expect((v["Components"] as Json[])[0]).toMatchObject({ Name: "Engine", Details: { ApiVersion: "1.41" } });
  });

  it("info: a swarm manager's", async () => {
    const info = (await docker.info()) as Json;
    const swarm = info["Swarm"] as Json;
    expect(swarm).toMatchObject({ LocalNodeState: "active", ControlAvailable: true, Managers: 1, Error: "" });
    expect(swarm["NodeID"]).toMatch(ID);
    expect(swarm["Nodes"]).toBe((await docker.listNodes()).length);
    const c = swarm["Cluster"] as Json;
    expect(c["ID"]).toMatch(ID);
    expect((c["Spec"] as Json)["Name"]).toBe("default");
    expect(((c["Spec"] as Json)["CAConfig"] as Json)["NodeCertExpiry"]).toBeGreaterThan(0);
    expect((c["TLSInfo"] as Json)["TrustRoot"]).toMatch(new RegExp(`^${PEM}`));
  });

  it("secrets and configs: created, listed, inspected (a secret without its data), removed", async () => {
    expect(await docker.listSecrets()).toEqual([]);
    expect(await docker.listConfigs()).toEqual([]);
    const data = Buffer.from("sdk-secret-bytes").toString("base64");
    const secret = await docker.createSecret({ Name: "sdk-secret", Labels: { k: "v" }, Data: data });
    const shown = (await docker.getSecret(secret.id).inspect()) as unknown as Json;
    expect(shown["ID"]).toBe(secret.id);
    expect(shown["Spec"]).toEqual({ Name: "sdk-secret", Labels: { k: "v" } });
    const config = await docker.createConfig({ Name: "sdk-config", Data: data });
    expect(((await docker.getConfig(config.id).inspect()) as unknown as Json)["Spec"]).toMatchObject({ Data: data });
    expect(((await docker.listSecrets()) as unknown as Json[]).map((x) => x["ID"])).toEqual([secret.id]);
    await docker.getSecret(secret.id).remove();
    await docker.getConfig(config.id).remove();
    expect(await docker.listSecrets()).toEqual([]);
  });

  it("nodes: list with filters and inspect, in Docker's shape", async () => {
    // The agents' nodes (the manager is a node too, with no agent beside it here).
    const nodes = ((await docker.listNodes()) as Json[]).filter((n) => (n["Spec"] as Json)["Role"] === "worker");
    const byName = new Map(nodes.map((n) => [(n["Description"] as Json)["Hostname"] as string, n]));
    expect([...byName.keys()].sort()).toEqual(cluster.hosts.map((h) => h.name).sort());
    for (const host of cluster.hosts) {
      const n = byName.get(host.name)!;
      expect((n["Status"] as Json)["State"]).toBe(host.state);
      expect((n["Status"] as Json)["Addr"]).toBe(host.address);
    }
    const h1 = byName.get("h1")!;
    const named = await docker.listNodes({ filters: JSON.stringify({ name: ["h1"] }) });
    expect(named.map((n: Json) => n["ID"])).toEqual([h1["ID"]]);
    expect(await docker.getNode("h1").inspect()).toEqual(h1);
    for (const n of nodes) expectNode(n);
  });

  it("nodes: update labels and availability with the version read, refuse a stale one", async () => {
    const h2 = docker.getNode("h2");
    const before = (await h2.inspect()) as Json;
    const spec = { Labels: { zone: "b", js: "1" }, Role: "worker", Availability: "drain" };
    try {
      // dockerode's way: the version with the spec (it goes to the query and the body).
      await h2.update({ version: (before["Version"] as Json)["Index"], ...spec });
      const after = (await h2.inspect()) as Json;
      expect(after["Spec"]).toEqual(spec);
      const labelled = await docker.listNodes({ filters: JSON.stringify({ "node.label": ["js=1"] }) });
      expect(labelled.map((n: Json) => n["ID"])).toEqual([after["ID"]]);
      expect(await statusOf(h2.update({ version: (before["Version"] as Json)["Index"], ...spec }))).toBe(409);
    } finally {
      const now = (await h2.inspect()) as Json;
      // Restored with the version in the query only, whatever the body's extra fields do.
      await dial(docker, {
        path: `/nodes/${String(now["ID"])}/update?`,
        method: "POST",
        options: {
          _query: { version: (now["Version"] as Json)["Index"] },
          _body: { Role: "worker", Availability: "active" },
        },
      });
    }
  });

  it("nodes: remove a down node, refuse a live one", async () => {
    const down = cluster.hosts.find((h) => h.state === "down")!;
    const downNode = docker.getNode(down.name);
    expect(((await downNode.inspect()) as { Status: Json }).Status["State"]).toBe("down");
    const id = ((await downNode.inspect()) as { ID: string }).ID;
    await docker.getNode(id).remove();
    expect(await statusOf(docker.getNode(id).inspect())).toBe(404);
    const live = await docker
      .getNode("h1")
      .remove()
      .then(() => undefined)
      .catch((e: { statusCode: number; json: Json }) => e);
    expect(live?.statusCode).toBe(400);
    expect(String(live?.json["message"])).toContain("is not down");
    expect(await statusOf(docker.getNode("nosuch").inspect())).toBe(404);
  });

  it("networks: create overlay with labels, list with filters, inspect, remove", async () => {
    const net = await docker.createNetwork({ Name: "js-net", Driver: "overlay", Labels: { js: "1" } });
    try {
      expect(net.id).toMatch(ID);
      const n = (await net.inspect()) as unknown as Json;
      expect(n).toMatchObject({
        Name: "js-net",
        Id: net.id,
        Scope: "swarm",
        Driver: "overlay",
        EnableIPv6: false,
        Internal: false,
        Attachable: false,
        Ingress: false,
        ConfigOnly: false,
        ConfigFrom: { Network: "" },
        Labels: { js: "1" },
      });
      expect(n["Created"]).toMatch(TIME);
      expect((n["IPAM"] as Json)["Driver"]).toBe("default");
      expect(await docker.getNetwork("js-net").inspect()).toEqual(n);
      const listed = await docker.listNetworks({ filters: { label: ["js=1"] } });
      expect(listed.map((x) => x.Id)).toEqual([net.id]);
      expect((await docker.listNetworks({ filters: { name: ["js-net"], driver: ["overlay"] } })).length).toBe(1);
      const dup = await docker
        .createNetwork({ Name: "js-net", Driver: "overlay" })
        .catch((e: { statusCode: number }) => e);
      expect((dup as { statusCode: number }).statusCode).toBe(409);
    } finally {
      await net.remove();
    }
    expect(await statusOf(net.inspect())).toBe(404);
  });

  it("services: create with every field, read back as Docker stores it", async () => {
    const net = await docker.createNetwork({ Name: "js-full-net", Driver: "overlay" });
    try {
      const spec = fullSpec(cluster.image, "js-full-net");
      await withService(spec, async (service) => {
        const svc = await inspect(service);
        expectService(svc);
        const got = svc["Spec"] as Json;
        const want = spec as { TaskTemplate: Json } & Json;
        // Each field on its own: one difference does not hide the next.
        expect.soft(got["Name"]).toBe("js-full");
        expect.soft(got["Labels"]).toEqual(want["Labels"]);
        expect.soft(got["Mode"]).toEqual({ Replicated: { Replicas: 2 } });
        const template = got["TaskTemplate"] as Json;
        expect.soft(template["ContainerSpec"]).toMatchObject(want.TaskTemplate["ContainerSpec"] as Json);
        for (const key of ["Resources", "RestartPolicy", "Placement"])
          expect.soft(template[key]).toEqual(want.TaskTemplate[key]);
        expect.soft(template["Networks"]).toEqual([{ Target: net.id, Aliases: ["full"] }]);
        expect.soft(got["UpdateConfig"]).toEqual(want["UpdateConfig"]);
        expect.soft(got["RollbackConfig"]).toEqual(want["RollbackConfig"]);
        expect.soft(got["EndpointSpec"]).toEqual(want["EndpointSpec"]);
        expect.soft((svc["Endpoint"] as Json)["Ports"]).toEqual((want["EndpointSpec"] as Json)["Ports"]);
        const tasks = await runningTasks(docker, service.id, 2);
        for (const t of tasks) expectTask(t, service.id);
        expect(tasks.map((t) => t["Slot"]).sort()).toEqual([1, 2]);
      });
    } finally {
      await net.remove();
    }
  });

  it("services: global, default mode, list with filters and status, inspect by name, conflicts", async () => {
    await withService(sleeper("js-glob", { Mode: { Global: {} }, Labels: { tier: "g" } }), async (glob) => {
      await withService(sleeper("js-plain", { Labels: { tier: "p" } }), async (plain) => {
        const g = await inspect(glob);
        expect((g["Spec"] as Json)["Mode"]).toEqual({ Global: {} });
        const gTasks = await runningTasks(docker, glob.id, cluster.hosts.filter((h) => h.state === "ready").length);
        for (const t of gTasks) expect(t).not.toHaveProperty("Slot");
        const p = await inspect(plain);
        expect((p["Spec"] as Json)["Mode"]).toEqual({ Replicated: { Replicas: 1 } });
        const ids = async (filters: Json): Promise<string[]> =>
          (await docker.listServices({ filters: JSON.stringify(filters) })).map((s) => s.ID).sort();
        expect(await ids({ name: ["js-"] })).toEqual([glob.id, plain.id].sort());
        expect(await ids({ mode: ["global"] })).toEqual([glob.id]);
        expect(await ids({ label: ["tier=p"] })).toEqual([plain.id]);
        expect(await ids({ id: [plain.id.slice(0, 8)] })).toEqual([plain.id]);
        await runningTasks(docker, plain.id, 1);
        const withStatus = (await docker.listServices({
          status: true,
          filters: { name: ["js-plain"] },
        })) as unknown as Json[];
        expect(withStatus[0]!["ServiceStatus"]).toEqual({ RunningTasks: 1, DesiredTasks: 1, CompletedTasks: 0 });
        expect((await docker.getService("js-plain").inspect()).ID).toBe(plain.id);
        expect(await statusOf(docker.createService(sleeper("js-plain")))).toBe(409);
        expect(await statusOf(docker.getService("nosuch").inspect())).toBe(404);
        expect(await statusOf(docker.listServices({ filters: JSON.stringify({ colour: ["blue"] }) }))).toBe(400);
      });
    });
  });

  it("services: update, stale version, scale, force update, rollback", async () => {
    await withService(
      // `sleep` as PID 1 ignores SIGTERM: each task the update, the force update and the rollback
      // replace would wait out the default 10 s grace; 1 s (in nanoseconds) here.
      sleeper("js-upd", {
        TaskTemplate: { ContainerSpec: { Image: cluster.image, Args: SLEEP, Env: ["V=1"], StopGracePeriod: 1e9 } },
      }),
      async (service) => {
        const first = await runningTasks(docker, service.id, 1);
        let svc = await inspect(service);
        const version = (svc["Version"] as Json)["Index"] as number;
        const spec = structuredClone(svc["Spec"]) as {
          TaskTemplate: { ContainerSpec: Json; ForceUpdate: number };
          Mode: Json;
        } & Json;
        spec.TaskTemplate.ContainerSpec["Env"] = ["V=2"];
        spec.TaskTemplate.ContainerSpec["Image"] = cluster.image2;
        expect(await service.update({ version, ...spec })).toEqual({ Warnings: null });
        svc = await inspect(service);
        expect(((svc["Spec"] as Json)["TaskTemplate"] as Json)["ContainerSpec"]).toMatchObject({
          Image: cluster.image2,
          Env: ["V=2"],
        });
        expect(((svc["PreviousSpec"] as Json)["TaskTemplate"] as Json)["ContainerSpec"]).toMatchObject({
          Env: ["V=1"],
        });
        expect((svc["UpdateStatus"] as Json)["StartedAt"]).toMatch(TIME);
        expect(await statusOf(service.update({ version, ...spec }))).toBe(409);
        await expect
          .poll(async () => (await runningTasks(docker, service.id, 1))[0]!["ID"], { timeout: 30_000 })
          .not.toBe(first[0]!["ID"]);

        const scaled = { ...(svc["Spec"] as Json), Mode: { Replicated: { Replicas: 3 } } };
        await service.update({ version: (svc["Version"] as Json)["Index"], ...scaled });
        const three = await runningTasks(docker, service.id, 3);
        expect(three.map((t) => t["Slot"]).sort()).toEqual([1, 2, 3]);

        svc = await inspect(service);
        const forced = structuredClone(svc["Spec"]) as typeof spec;
        forced.TaskTemplate.ForceUpdate += 1;
        await service.update({ version: (svc["Version"] as Json)["Index"], ...forced });
        svc = await inspect(service);
        expect(((svc["Spec"] as Json)["TaskTemplate"] as Json)["ForceUpdate"]).toBe(1);

        // `docker service rollback`: the current spec with rollback=previous.
        await service.update({
          version: (svc["Version"] as Json)["Index"],
          rollback: "previous",
          ...(svc["Spec"] as Json),
        });
        svc = await inspect(service);
        expect(((svc["Spec"] as Json)["TaskTemplate"] as Json)["ForceUpdate"]).toBe(0);
        expect(["rollback_started", "rollback_completed"]).toContain((svc["UpdateStatus"] as Json)["State"]);
        await expect
          .poll(async () => ((await inspect(service))["UpdateStatus"] as Json)["State"], { timeout: 30_000 })
          .toBe("rollback_completed");
      },
    );
  });

  it("tasks and logs: list with filters, inspect, multiplexed log frames", async () => {
    const chatty = ["sh", "-c", "i=0; while true; do echo out $i; echo err $i >&2; i=$((i+1)); sleep 0.2; done"];
    await withService(
      sleeper("js-logs", { TaskTemplate: { ContainerSpec: { Image: cluster.image, Args: chatty } } }),
      async (service) => {
        const [task] = await runningTasks(docker, service.id, 1);
        const listed = (await docker.listTasks({
          filters: { service: ["js-logs"], "desired-state": ["running"] },
        })) as Json[];
        expect(listed.map((t) => t["ID"])).toEqual([task!["ID"]]);
        const inspected = (await docker.getTask(task!["ID"] as string).inspect()) as Json;
        expectTask(inspected, service.id);
        expect(await statusOf(docker.getTask("nosuch").inspect())).toBe(404);
        await expect
          .poll(async () => (await logLines(service, { stdout: true, stderr: true })).length, { timeout: 15_000 })
          .toBeGreaterThanOrEqual(8);
        const lines = await logLines(service, { stdout: true, stderr: true, tail: 4 });
        expect(lines).toHaveLength(4);
        for (const l of lines) expect(`${l.stream} ${l.text}`).toMatch(/^(1 out|2 err) \d+\n$/);
        const context = `com.docker.swarm.node.id=${String(task!["NodeID"])},com.docker.swarm.service.id=${service.id},com.docker.swarm.task.id=${String(task!["ID"])}`;
        for (const l of await logLines(service, {
          stdout: true,
          stderr: true,
          tail: 2,
          timestamps: true,
          details: true,
        })) {
          expect(l.text.startsWith(`${l.text.split(" ")[0]!} ${context} `)).toBe(true);
          expect(l.text.split(" ")[0]).toMatch(TIME);
        }
      },
    );
  });

  it("swarm: inspect, rotate the worker token, task history limit, unlock key", async () => {
    const swarm = (await docker.swarmInspect()) as Json;
    expectMeta(swarm);
    const tokens = swarm["JoinTokens"] as Json;
    expect(tokens["Worker"]).toMatch(JOIN_TOKEN);
    expect(tokens["Manager"]).toMatch(JOIN_TOKEN);
    expect((swarm["Spec"] as Json)["Name"]).toBe("default");
    expect(((swarm["TLSInfo"] as Json)["TrustRoot"] as string).startsWith(PEM)).toBe(true);
    const spec = swarm["Spec"] as Json;
    await docker.swarmUpdate({ ...spec, version: (swarm["Version"] as Json)["Index"], rotateWorkerToken: true });
    const rotated = (await docker.swarmInspect()) as Json;
    expect((rotated["JoinTokens"] as Json)["Worker"]).not.toBe(tokens["Worker"]);
    expect((rotated["JoinTokens"] as Json)["Manager"]).toBe(tokens["Manager"]);
    await docker.swarmUpdate({
      ...spec,
      Orchestration: { TaskHistoryRetentionLimit: 3 },
      version: (rotated["Version"] as Json)["Index"],
    });
    expect(((await docker.swarmInspect()) as { Spec: Json }).Spec["Orchestration"]).toEqual({
      TaskHistoryRetentionLimit: 3,
    });
    const key = await dial(docker, { path: "/swarm/unlockkey", method: "GET" });
    expect(key).toEqual({ UnlockKey: "" });
  });

  it("images: pull on every ready node", async () => {
    const stream = await docker.pull(cluster.pullRef);
    const progress = await new Promise<Json[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: Json[]) => (err ? reject(err) : resolve(out))),
    );
    expect(
      progress.some((m) => /^Status: (Downloaded newer image|Image is up to date) for /.test(String(m["status"]))),
    ).toBe(true);
    for (const host of cluster.hosts.filter((h) => h.state === "ready")) {
      const r = await cluster.harness
        .host(host.name)
        .docker(["image", "inspect", "--format", "{{.Id}}", cluster.pullRef], { check: false });
      expect(r.exitCode, `${host.name}: ${r.stderr}`).toBe(0);
    }
  });
});
