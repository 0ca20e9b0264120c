// The leader's components alone, in one process, on a store as big as the scale target: BENCH_NODES
// (1,000) ready nodes and one service of BENCH_TASKS (100,000) replicas. The store commits at once
// (no Raft), so what shows is the components' own work on the event loop:
//  - takeover: every task already runs; a new leader's components start on that store (a leader
//    change at full size). Reported: the time until they go quiet, and the longest turn.
//  - create: the service is created on the empty cluster; the components make and place every
//    task. Reported: the time until every task is placed, and the longest turn.
// The target for a turn is 100 ms: a longer one delays heartbeats and Raft.
// Prints one JSON line per case:
//   {"bench":"leader-takeover","case":"takeover","tasks":100000,"settled_ms":...,"event_loop_max_ms":...}
// Run: node_modules/.bin/tsx --conditions=@shoal/source test/bench/leader-takeover.ts
import { loadavg } from "node:os";
import {
  InternalRaftRequest,
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  Service,
  Task,
  TaskState,
  type AuditRecord,
  type StoreAction,
  newId,
  silentLogger,
  systemClock,
} from "@shoal/shared";
import { MemoryStore, leaderFactories } from "@shoal/manager";

const NODES = Number(process.env["BENCH_NODES"] ?? 1_000);
const TASKS = Number(process.env["BENCH_TASKS"] ?? 100_000);
const CASES = (process.env["BENCH_CASES"] ?? "takeover,create").split(",");
/** The components are quiet once the store took no write for this long. */
const QUIET_MS = 2_000;
const TIMEOUT_MS = Number(process.env["BENCH_TIMEOUT_S"] ?? 120) * 1000;

const round = (x: number): number => Math.round(x * 10) / 10;
const load = (): number => Math.round(loadavg()[0]! * 100) / 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function makeNode(i: number): Node {
  return Node.fromPartial({
    id: newId(),
    spec: { annotations: { name: "" }, desiredRole: NodeRole.WORKER, availability: NodeAvailability.ACTIVE },
    description: {
      hostname: `sim-${i}`,
      platform: { os: "linux", architecture: "amd64" },
      resources: { nanoCpus: 4e9, memoryBytes: 8 * 1024 ** 3, pids: 0, generic: [] },
      engine: { engineVersion: "27.5.1", labels: {} },
    },
    status: { state: NodeState.READY, message: "", addr: `10.1.${i >> 8}.${i & 255}` },
    role: NodeRole.WORKER,
  });
}

function makeService(replicas: number): Service {
  return Service.fromPartial({
    id: newId(),
    spec: {
      annotations: { name: "web" },
      taskTemplate: { container: { image: "shoal-base:1", args: ["sleep", "3600"] } },
      mode: { $case: "replicated", value: { replicas } },
    },
    specVersion: { index: 1 },
  });
}

/** The tasks of `svc` as they are once every replica runs, spread evenly over `nodes`. */
function runningTasks(svc: Service, nodes: readonly Node[]): Task[] {
  const now = new Date();
  return Array.from({ length: TASKS }, (_, i) =>
    Task.fromPartial({
      id: newId(),
      spec: svc.spec!.taskTemplate!,
      serviceId: svc.id,
      slot: i + 1,
      nodeId: nodes[i % nodes.length]!.id,
      annotations: { name: `web.${i + 1}` },
      status: { state: TaskState.RUNNING, timestamp: now, message: "started" },
      desiredState: TaskState.RUNNING,
      specVersion: { index: 1 },
    }),
  );
}

async function fill(store: MemoryStore, objects: { nodes: Node[]; services: Service[]; tasks: Task[] }): Promise<void> {
  await store.update((tx) => {
    for (const n of objects.nodes) tx.nodes.create(n);
    for (const s of objects.services) tx.services.create(s);
  });
  for (let at = 0; at < objects.tasks.length; at += 10_000) {
    await store.update((tx) => {
      for (const t of objects.tasks.slice(at, at + 10_000)) tx.tasks.create(t);
    });
  }
}

/**
 * Commits each entry a turn of the event loop after it is proposed, encoded and decoded as Raft
 * would: writes then wait as they do on a real leader, where I/O comes between a proposal and its
 * commit (the store's own LocalProposer commits at once, and a chain of writes never yields).
 */
class NextTurnProposer {
  private index = 0;
  store: MemoryStore | undefined;

  propose(actions: StoreAction[], _signal?: AbortSignal, audit: AuditRecord[] = []): Promise<{ index: number }> {
    const index = ++this.index;
    const data = InternalRaftRequest.encode({ id: index, actions, audit }).finish();
    return new Promise((resolve) =>
      setImmediate(() => {
        const decoded = InternalRaftRequest.decode(data);
        this.store!.applyEntry(index, decoded.actions, decoded.audit);
        resolve({ index });
      }),
    );
  }
}

function newStore(): MemoryStore {
  const proposer = new NextTurnProposer();
  const store = new MemoryStore({ clock: systemClock, proposer });
  proposer.store = store;
  return store;
}

interface Started {
  stop(): Promise<void>;
}

async function startLeader(store: MemoryStore): Promise<Started> {
  const logger = silentLogger();
  const controller = new AbortController();
  const components = leaderFactories({ store, logger, clock: systemClock, managers: () => [] }).map((make) => make());
  for (const c of components) await c.run(controller.signal);
  return {
    stop: async () => {
      controller.abort();
      for (const c of [...components].reverse()) await c.stop();
    },
  };
}

/** Resolves once `done()` holds and the store took no write for QUIET_MS; the time from `start`. */
async function settled(store: MemoryStore, start: number, done: () => boolean): Promise<number> {
  let lastWrite = performance.now();
  let applied = store.appliedIndex;
  for (;;) {
    await sleep(100);
    if (store.appliedIndex !== applied) {
      applied = store.appliedIndex;
      lastWrite = performance.now();
    }
    if (performance.now() - start > TIMEOUT_MS) throw new Error(`not settled in ${TIMEOUT_MS / 1000} s`);
    if (performance.now() - lastWrite >= QUIET_MS && done()) return lastWrite - start;
  }
}

/**
 * The longest time the event loop went without running a timer due every TICK_MS, less TICK_MS:
 * the longest stretch of work that kept everything else waiting.
 */
function longestTurn(): { stop(): number } {
  const TICK_MS = 5;
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - TICK_MS);
    last = now;
  }, TICK_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return longest;
    },
  };
}

async function runCase(name: string): Promise<void> {
  const store = newStore();
  const nodes = Array.from({ length: NODES }, (_, i) => makeNode(i));
  const svc = makeService(TASKS);
  if (name === "takeover") await fill(store, { nodes, services: [svc], tasks: runningTasks(svc, nodes) });
  else await fill(store, { nodes, services: [], tasks: [] });
  const loadBefore = load();
  const turns = longestTurn();
  const start = performance.now();
  const leader = await startLeader(store);
  if (name === "create") await store.update((tx) => tx.services.create(svc));
  const placed = (): boolean =>
    store.view((tx) => tx.tasks.scan({ serviceId: svc.id }).filter((t) => t.nodeId !== "").length) >= TASKS;
  let line: Record<string, unknown> = { bench: "leader-takeover", case: name, nodes: NODES, tasks: TASKS };
  try {
    const ms = await settled(store, start, name === "create" ? placed : () => true);
    line = {
      ...line,
      settled_ms: Math.round(ms),
      event_loop_max_ms: round(turns.stop()),
      rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
    };
  } catch (err: unknown) {
    line["error"] = String(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  } finally {
    await leader.stop();
    store.close();
  }
  console.log(JSON.stringify({ ...line, load_before: loadBefore, load_after: load() }));
}

for (const name of CASES) await runCase(name);
