// STAND-IN for the `@shoal/dashboard` package (the dashui part builds it in parallel): its API
// types (a copy of packages/dashboard/src/api.ts, the contract) and `dashboardAssets()`, a
// minimal page. At merge (checked against dashui's 598c442: tsc, the unit tests and both
// dashboard e2e tests pass), this file becomes:
//   export { dashboardAssets, type DashboardAsset } from "@shoal/dashboard";
//   export type * from "@shoal/dashboard";
// packages/manager/package.json gains "@shoal/dashboard": "workspace:*", its tsconfig.json the
// reference { "path": "../dashboard" }, and `pnpm install --offline` adds it to pnpm-lock.yaml.

export interface DashboardAsset {
  readonly type: string;
  readonly body: Buffer;
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Shoal</title>
<link rel="stylesheet" href="/app.css"></head><body><div id="app">Shoal dashboard</div>
<script type="module" src="/app.js"></script></body></html>`;

/** The page by URL path: "/" (index.html), "/app.js", "/app.css". */
export function dashboardAssets(): ReadonlyMap<string, DashboardAsset> {
  return new Map([
    ["/", { type: "text/html; charset=utf-8", body: Buffer.from(PAGE) }],
    ["/app.js", { type: "text/javascript; charset=utf-8", body: Buffer.from("export {};\n") }],
    ["/app.css", { type: "text/css; charset=utf-8", body: Buffer.from("body{font-family:sans-serif}\n") }],
  ]);
}

export interface NodeView {
  readonly id: string;
  readonly hostname: string;
  /** "manager" or "worker". */
  readonly role: string;
  /** "ready", "down", "unknown", "disconnected". */
  readonly status: string;
  /** "active", "pause", "drain". */
  readonly availability: string;
  /** The manager's Raft state: "leader", "reachable", "unreachable"; empty for a worker. */
  readonly managerStatus: string;
  readonly addr: string;
  readonly engineVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  /** What the node has: nano CPUs and bytes. */
  readonly resources: { readonly nanoCpus: number; readonly memoryBytes: number };
  readonly version: number;
}

export interface ServiceView {
  readonly id: string;
  readonly name: string;
  /** "replicated", "global", "replicated-job", "global-job". */
  readonly mode: string;
  /** Replicated: the desired count; global: undefined. */
  readonly replicas?: number;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The rolling update, if any: state ("updating", "paused", "completed", "rollback_started", ...) and message. */
  readonly updateStatus?: { readonly state: string; readonly message: string };
  /** Published ports as "PUBLISHED:TARGET/PROTOCOL". */
  readonly ports: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

export interface TaskView {
  readonly id: string;
  readonly serviceId: string;
  /** SERVICE.SLOT or SERVICE.NODEID. */
  readonly name: string;
  readonly slot: number;
  readonly nodeId: string;
  /** "running", "shutdown", ... (the task's desired state). */
  readonly desiredState: string;
  /** "new", "pending", ..., "running", "complete", "failed", "rejected", ... */
  readonly state: string;
  /** "healthy", "unhealthy", "starting", or empty without a health check. */
  readonly health: string;
  readonly message: string;
  readonly error: string;
  readonly containerId: string;
  readonly image: string;
  /** When the state was reached. */
  readonly since: string;
  /** Resources reserved by the task: nano CPUs and bytes. */
  readonly reserved: { readonly nanoCpus: number; readonly memoryBytes: number };
  readonly version: number;
}

export interface StateSnapshot {
  readonly clusterId: string;
  /** The manager that answered, and whether it leads. */
  readonly managerNodeId: string;
  readonly isLeader: boolean;
  /** The store's applied index the snapshot was read at: watch with since=index. */
  readonly index: number;
  readonly nodes: readonly NodeView[];
  readonly services: readonly ServiceView[];
  readonly tasks: readonly TaskView[];
}

export type Change =
  | { readonly kind: "node"; readonly action: "upsert"; readonly object: NodeView }
  | { readonly kind: "service"; readonly action: "upsert"; readonly object: ServiceView }
  | { readonly kind: "task"; readonly action: "upsert"; readonly object: TaskView }
  | { readonly kind: "node" | "service" | "task"; readonly action: "remove"; readonly id: string };

/** The `change` event of /api/v1/watch: the changes of one applied raft entry. */
export interface ChangeBatch {
  readonly index: number;
  readonly changes: readonly Change[];
}

/** The `event` event of /api/v1/events (as `shoal events` shows one). */
export interface ClusterEventView {
  readonly time: string;
  /** "service", "task", "node", "secret", "config", "network", "exec". */
  readonly type: string;
  /** "create", "update", "remove". */
  readonly action: string;
  readonly id: string;
  readonly name: string;
  readonly changes: readonly { readonly field: string; readonly old: string; readonly new: string }[];
  readonly attributes: Readonly<Record<string, string>>;
}

/** The `log` event of the logs streams. */
export interface LogLine {
  readonly time: string;
  readonly taskId: string;
  readonly nodeId: string;
  readonly stream: "stdout" | "stderr";
  readonly line: string;
}

/** The `stats` event of the stats streams: one task container's sample. */
export interface StatsSample {
  readonly time: string;
  readonly taskId: string;
  readonly containerId: string;
  /** Percent of one CPU (as docker stats shows). */
  readonly cpuPercent: number;
  readonly memoryBytes: number;
  readonly memoryLimitBytes: number;
  readonly networkRxBytes: number;
  readonly networkTxBytes: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
  readonly pids: number;
}

export interface ApiError {
  readonly message: string;
  readonly field?: string;
}
