// The dashboard's server side at the issue's size: 1,000 nodes and 10,000 tasks (100 services of
// 100 replicas, all running). The manager's dashboard server runs in this process over HTTPS on a
// store filled as a manager's replica would hold it (no agents: what is measured is the server,
// not the cluster's convergence; test/bench/scale-simulated-agents.ts measures that).
//   - GET /api/v1/state: time to the decoded body and its size on the wire, plain and gzipped as a
//     browser asks for it (median of BENCH_RUNS, default 5);
//   - the update latency: from a store change (one task's status, as an agent's report makes it)
//     to its `change` event received by a browser's watch stream, with BENCH_WATCHERS (default 10)
//     streams open; BENCH_UPDATES (default 200) changes, one at a time; median and p99.
// Prints one JSON line:
//   {"bench":"dashboard","nodes":1000,"tasks":10000,"state_ms":..,"state_bytes":..,"state_gzip_ms":..,
//    "state_gzip_bytes":..,
//    "update_latency_ms_p50":..,"update_latency_ms_p99":..,"watchers":10}
// Run: node_modules/.bin/tsx --conditions=@shoal/source test/bench/dashboard.ts
import { request } from "node:https";
import { gunzipSync } from "node:zlib";
import {
  Cluster,
  Node,
  NodeRole,
  NodeState,
  Service,
  Task,
  TaskState,
  TlsMaterial,
  newId,
  pki,
  silentLogger,
  systemClock,
} from "@shoal/shared";
import { DashboardServer, MemoryStore, createLogin, redeemLogin } from "@shoal/manager";

const NODES = Number(process.env["BENCH_NODES"] ?? 1_000);
const TASKS = Number(process.env["BENCH_TASKS"] ?? 10_000);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 5);
const WATCHERS = Number(process.env["BENCH_WATCHERS"] ?? 10);
const UPDATES = Number(process.env["BENCH_UPDATES"] ?? 200);
const PER_SERVICE = 100;

async function fill(store: MemoryStore, clusterId: string): Promise<Task[]> {
  await store.update((tx) =>
    tx.clusters.create(Cluster.fromPartial({ id: clusterId, spec: { annotations: { name: "default" } } })),
  );
  const nodes = Array.from({ length: NODES }, (_, i) =>
    Node.fromPartial({
      id: newId(),
      role: NodeRole.WORKER,
      spec: { annotations: { labels: { rack: `r${i % 10}` } } },
      status: { state: NodeState.READY, addr: `10.0.${Math.floor(i / 250)}.${i % 250}` },
      description: {
        hostname: `node-${i}`,
        resources: { nanoCpus: 8e9, memoryBytes: 32 * 1024 ** 3 },
        engine: { engineVersion: "20.10.24" },
      },
    }),
  );
  for (let i = 0; i < nodes.length; i += 500) {
    await store.update((tx) => nodes.slice(i, i + 500).forEach((n) => tx.nodes.create(n)));
  }
  const tasks: Task[] = [];
  for (let s = 0; s < TASKS / PER_SERVICE; s++) {
    const service = Service.fromPartial({
      id: newId(),
      spec: {
        annotations: { name: `svc-${s}`, labels: { app: `a${s}` } },
        taskTemplate: { container: { image: `registry.example/app-${s}:1.0` } },
        mode: { $case: "replicated", value: { replicas: PER_SERVICE } },
      },
    });
    const mine = Array.from({ length: PER_SERVICE }, (_, r) =>
      Task.fromPartial({
        id: newId(),
        serviceId: service.id,
        slot: r + 1,
        nodeId: nodes[(s * PER_SERVICE + r) % nodes.length]!.id,
        annotations: { name: `svc-${s}.${r + 1}` },
        serviceAnnotations: { name: `svc-${s}` },
        desiredState: TaskState.RUNNING,
        spec: {
          container: { image: `registry.example/app-${s}:1.0` },
          resources: { reservations: { nanoCpus: 1e8, memoryBytes: 64 * 1024 ** 2 } },
        },
        status: {
          state: TaskState.RUNNING,
          message: "started",
          timestamp: new Date(),
          containerStatus: { containerId: newId() + newId() },
        },
      }),
    );
    await store.update((tx) => {
      tx.services.create(service);
      for (const t of mine) tx.tasks.create(t);
    });
    tasks.push(...mine);
  }
  return tasks;
}

/** A GET as a browser makes it (gzip: as it asks for it), until the body is decoded. */
function get(
  url: string,
  cookie: string,
  ca: string,
  gzip = false,
): Promise<{ ms: number; bytes: number; body: string }> {
  const start = performance.now();
  const headers = { Cookie: cookie, ...(gzip ? { "Accept-Encoding": "gzip" } : {}) };
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers, servername: "localhost" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const raw = Buffer.concat(chunks);
        const body = res.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
        resolve({ ms: performance.now() - start, bytes: raw.length, body: body.toString() });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const round = (n: number): number => Math.round(n * 10) / 10;

async function main(): Promise<void> {
  const clusterId = newId();
  const ca = await pki.CertificateAuthority.create({ clusterId, now: Date.now() });
  const { keyPem, csrPem } = await pki.createKeyAndCsr();
  const { certChainPem } = await ca.issue(csrPem, {
    nodeId: "m1",
    role: "manager",
    clusterId,
    now: Date.now(),
    hosts: ["localhost", "127.0.0.1"],
  });
  const material = new TlsMaterial({ caPem: ca.certPem, certChainPem, keyPem });
  const store = new MemoryStore();
  const tasks = await fill(store, clusterId);
  const server = new DashboardServer({
    listen: "127.0.0.1:0",
    advertiseHost: "127.0.0.1",
    managerAddr: "127.0.0.1:1",
    material,
    nodeId: "m1",
    store,
    isLeader: () => true,
    clock: systemClock,
    logger: silentLogger(),
    control: { call: () => Promise.reject(new Error("not in this benchmark")) },
  });
  await server.start();
  const { token } = await createLogin(
    store,
    { linkTtl: undefined, sessionTtl: undefined, createdBy: "" },
    { now: Date.now(), createdBy: "bench" },
  );
  const { sessionToken } = await redeemLogin(store, token, Date.now());
  const cookie = `shoal_session=${sessionToken}`;
  const base = `https://${server.address}`;

  await get(`${base}/api/v1/state`, cookie, ca.certPem); // warm-up
  const times = { plain: [] as number[], gzip: [] as number[] };
  const bytes = { plain: 0, gzip: 0 };
  let index = 0;
  for (let i = 0; i < RUNS; i++) {
    for (const kind of ["plain", "gzip"] as const) {
      const r = await get(`${base}/api/v1/state`, cookie, ca.certPem, kind === "gzip");
      times[kind].push(r.ms);
      bytes[kind] = r.bytes;
      const state = JSON.parse(r.body) as { index: number; nodes: unknown[]; tasks: unknown[] };
      if (state.nodes.length !== NODES || state.tasks.length !== TASKS)
        throw new Error("the state is not the whole cluster");
      index = state.index;
    }
  }

  // Watchers: the first one measures; the others are load.
  const waiting = new Map<string, (t: number) => void>();
  const streams = Array.from({ length: WATCHERS }, (_, w) =>
    request(
      `${base}/api/v1/watch?since=${index}`,
      { ca: ca.certPem, headers: { Cookie: cookie }, servername: "localhost" },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          if (w !== 0) return;
          text += c.toString();
          let end: number;
          while ((end = text.indexOf("\n\n")) >= 0) {
            const event = text.slice(0, end);
            text = text.slice(end + 2);
            for (const [id, done] of waiting) if (event.includes(id)) done(performance.now());
          }
        });
      },
    ).end(),
  );
  await new Promise((r) => setTimeout(r, 200));
  const latencies: number[] = [];
  for (let i = 0; i < UPDATES; i++) {
    const task = tasks[(i * 37) % tasks.length]!;
    const marker = `bench-${i}`;
    const received = new Promise<number>((resolve) => waiting.set(marker, resolve));
    const start = performance.now();
    await store.update((tx) => {
      const t = tx.tasks.get(task.id)!;
      tx.tasks.update({ ...t, status: { ...t.status!, message: marker } });
    });
    latencies.push((await received) - start);
    waiting.delete(marker);
  }
  for (const s of streams) s.destroy();
  await server.stop();
  console.log(
    JSON.stringify({
      bench: "dashboard",
      nodes: NODES,
      tasks: TASKS,
      state_ms: round(median(times.plain)),
      state_bytes: bytes.plain,
      state_gzip_ms: round(median(times.gzip)),
      state_gzip_bytes: bytes.gzip,
      watchers: WATCHERS,
      updates: UPDATES,
      update_latency_ms_p50: round(median(latencies)),
      update_latency_ms_p99: round(pct(latencies, 0.99)),
    }),
  );
}

await main();
