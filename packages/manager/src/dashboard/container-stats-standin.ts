// STAND-IN for `summariseStats` of @shoal/shared (packages/shared/src/container-stats.ts, which the
// `cli` part commits): the same signature, reduced to what a dashboard sample needs. At merge this
// file becomes `export { summariseStats } from "@shoal/shared";`.
type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

export function summariseStats(sample: unknown): {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  pids: number;
} {
  const s = obj(sample);
  const cpu = obj(s["cpu_stats"]);
  const pre = obj(s["precpu_stats"]);
  const cpuDelta = num(obj(cpu["cpu_usage"])["total_usage"]) - num(obj(pre["cpu_usage"])["total_usage"]);
  const sysDelta = num(cpu["system_cpu_usage"]) - num(pre["system_cpu_usage"]);
  const memory = obj(s["memory_stats"]);
  const networks = Object.values(obj(s["networks"])).map(obj);
  return {
    cpuPercent: sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * num(cpu["online_cpus"] ?? 1) * 100 : 0,
    memoryBytes: num(memory["usage"]),
    memoryLimitBytes: num(memory["limit"]),
    networkRxBytes: networks.reduce((a, n) => a + num(n["rx_bytes"]), 0),
    networkTxBytes: networks.reduce((a, n) => a + num(n["tx_bytes"]), 0),
    blockReadBytes: 0,
    blockWriteBytes: 0,
    pids: num(obj(s["pids_stats"])["current"]),
  };
}
