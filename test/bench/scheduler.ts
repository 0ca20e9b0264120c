// The scheduling pass alone (the pure pipeline: filters, spread, reasons), on the cases of
// SwarmKit's scheduler benchmark: 1,000 nodes and 1,000 / 10,000 / 100,000 pending tasks of one
// service, without and with constraints (half the nodes carry the label the tasks require). Tasks
// reserve a little CPU and memory, so the resource filters work too. Each case runs BENCH_RUNS
// times (default 5) after a warm-up; the median is reported.
// Prints one JSON line per case:
//   {"bench":"scheduler","nodes":1000,"tasks":100000,"constraints":true,"ms":...,"tasks_per_s":...}
// Run: node_modules/.bin/tsx --conditions=@shoal/source test/bench/scheduler.ts
import {
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  Task,
  TaskState,
  newId,
  type TaskSpec,
  ContainerSpec,
} from "@shoal/shared";
import { scheduleBatch } from "@shoal/manager";

const NODES = Number(process.env["BENCH_NODES"] ?? 1_000);
const TASK_COUNTS = (process.env["BENCH_TASKS"] ?? "1000,10000,100000").split(",").map(Number);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 5);

function makeNodes(n: number): Node[] {
  return Array.from({ length: n }, (_, i) =>
    Node.fromPartial({
      id: newId(),
      meta: { version: { index: 1 } },
      spec: {
        annotations: { name: "", labels: i % 2 === 0 ? { zone: "a", rack: `r${i % 10}` } : { rack: `r${i % 10}` } },
        desiredRole: NodeRole.WORKER,
        availability: NodeAvailability.ACTIVE,
      },
      description: {
        hostname: `node-${i}`,
        platform: { os: "linux", architecture: "amd64" },
        resources: { nanoCpus: 64e9, memoryBytes: 256 * 1024 ** 3, pids: 0, generic: [] },
        engine: { engineVersion: "27.5.1", labels: {} },
      },
      status: { state: NodeState.READY, message: "", addr: `10.0.${i >> 8}.${i & 255}` },
      role: NodeRole.WORKER,
    }),
  );
}

function makeTasks(n: number, constraints: boolean): Task[] {
  const serviceId = newId();
  const spec: TaskSpec = {
    container: {
      ...ContainerSpec.create(),
      image: "registry.example.com:5000/web:1.0",
      command: [],
      args: ["--port", "8080"],
      env: ["PORT=8080"],
      labels: {},
      dir: "",
      user: "",
      healthcheck: undefined,
      stopSignal: "",
      stopGracePeriod: undefined,
    },
    resources: {
      limits: { nanoCpus: 0, memoryBytes: 0, pids: 0, generic: [] },
      reservations: { nanoCpus: 1e8, memoryBytes: 64 * 1024 ** 2, pids: 0, generic: [] },
    },
    restartPolicy: undefined,
    placement: {
      constraints: constraints ? ["node.labels.zone==a"] : [],
      preferences: [],
      maxReplicasPerNode: 0,
      platforms: [],
    },
    forceUpdate: 0,
    logDriver: undefined,
    networks: [],
  };
  return Array.from({ length: n }, (_, i) =>
    Task.fromPartial({
      id: newId(),
      meta: { version: { index: 2 } },
      spec,
      serviceId,
      slot: i + 1,
      nodeId: "",
      annotations: { name: `web.${i + 1}`, labels: {} },
      status: { state: TaskState.NEW, timestamp: new Date(), message: "", err: "" },
      desiredState: TaskState.RUNNING,
      specVersion: { index: 1 },
    }),
  );
}

const nodes = makeNodes(NODES);
for (let i = 0; i < 3; i++) for (const c of [false, true]) scheduleBatch(nodes, [], makeTasks(5_000, c)); // warm-up
for (const constraints of [false, true]) {
  for (const count of TASK_COUNTS) {
    const pending = makeTasks(count, constraints);
    const times: number[] = [];
    let placed = 0;
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      const result = scheduleBatch(nodes, [], pending, Date.now());
      times.push(performance.now() - start);
      placed = result.assignments.size;
    }
    if (placed !== count) throw new Error(`placed ${placed} of ${count} tasks`);
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)]!;
    console.log(
      JSON.stringify({
        bench: "scheduler",
        nodes: NODES,
        tasks: count,
        constraints,
        ms: Math.round(ms * 10) / 10,
        tasks_per_s: Math.round((count / ms) * 1000),
      }),
    );
  }
}
