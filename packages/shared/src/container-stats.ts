// One sample of Docker's stats JSON (GET /containers/ID/stats) summarised as the docker CLI
// summarises it for `docker stats` (cli/command/container/stats_helpers.go, Linux daemons): CPU %
// from the delta against the sample's precpu_stats, memory without the inactive page cache, and
// the sums of the network and block I/O counters. Shared by `shoal task stats` and the dashboard.

export interface StatsSummary {
  /** Of one CPU: 250 is two and a half CPUs busy. */
  cpuPercent: number;
  /** Usage without the inactive file cache, as `docker stats` shows it. */
  memoryBytes: number;
  memoryLimitBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  pids: number;
}

type Json = Record<string, unknown>;

function object(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function cpuPercent(sample: Json): number {
  const cpu = object(sample["cpu_stats"]);
  const pre = object(sample["precpu_stats"]);
  const usage = object(cpu["cpu_usage"]);
  const cpuDelta = num(usage["total_usage"]) - num(object(pre["cpu_usage"])["total_usage"]);
  const systemDelta = num(cpu["system_cpu_usage"]) - num(pre["system_cpu_usage"]);
  let online = num(cpu["online_cpus"]);
  if (online === 0) online = Array.isArray(usage["percpu_usage"]) ? usage["percpu_usage"].length : 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** Usage less the inactive file cache (cgroup v1: total_inactive_file; v2: inactive_file). */
function memoryUsage(memory: Json): number {
  const usage = num(memory["usage"]);
  const stats = object(memory["stats"]);
  const v1 = stats["total_inactive_file"];
  if (v1 !== undefined && num(v1) < usage) return usage - num(v1);
  const v2 = num(stats["inactive_file"]);
  return v2 < usage ? usage - v2 : usage;
}

function blockIo(sample: Json): { read: number; write: number } {
  const entries = object(sample["blkio_stats"])["io_service_bytes_recursive"];
  let read = 0;
  let write = 0;
  for (const entry of Array.isArray(entries) ? entries : []) {
    const op = String(object(entry)["op"] ?? "").toLowerCase();
    if (op === "read") read += num(object(entry)["value"]);
    else if (op === "write") write += num(object(entry)["value"]);
  }
  return { read, write };
}

/** The summary of one Docker stats sample; missing or malformed parts count as zero. */
export function summariseStats(sample: unknown): StatsSummary {
  const s = object(sample);
  const memory = object(s["memory_stats"]);
  let rx = 0;
  let tx = 0;
  for (const network of Object.values(object(s["networks"]))) {
    rx += num(object(network)["rx_bytes"]);
    tx += num(object(network)["tx_bytes"]);
  }
  const block = blockIo(s);
  return {
    cpuPercent: cpuPercent(s),
    memoryBytes: memoryUsage(memory),
    memoryLimitBytes: num(memory["limit"]),
    networkRxBytes: rx,
    networkTxBytes: tx,
    blockReadBytes: block.read,
    blockWriteBytes: block.write,
    pids: num(object(s["pids_stats"])["current"]),
  };
}

/** MEM %: the memory used of the limit, 0 without a limit. */
export function memoryPercent(summary: StatsSummary): number {
  return summary.memoryLimitBytes === 0 ? 0 : (summary.memoryBytes / summary.memoryLimitBytes) * 100;
}

interface Decimal {
  /** Significant digits, the first non-zero. */
  digits: number[];
  /** Where the decimal point is: digits before it (negative: zeros after it first). */
  point: number;
}

/** The exact decimal digits of a finite, non-negative, non-zero number below 1e21. */
function exactDecimal(value: number): Decimal {
  const [int, frac = ""] = value.toFixed(100).split(".");
  const all = (int === "0" ? "" : int!) + frac;
  const lead = all.search(/[1-9]/);
  return {
    digits: all.slice(lead).replace(/0+$/, "").split("").map(Number),
    point: (int === "0" ? 0 : int!.length) - lead,
  };
}

/** Keeps `count` digits (at least 0), rounding half to even as Go does; trailing zeros dropped. */
function roundDigits(d: Decimal, count: number): Decimal {
  let kept = d.digits.slice(0, Math.max(count, 0));
  const rest = d.digits.slice(Math.max(count, 0));
  const up = rest.length > 0 && (rest[0]! > 5 || (rest[0] === 5 && (rest.length > 1 || (kept.at(-1) ?? 0) % 2 === 1)));
  let point = d.point;
  if (up) {
    let i = kept.length - 1;
    while (i >= 0 && kept[i] === 9) kept[i--] = 0;
    if (i < 0) {
      kept = [1, ...kept];
      point++;
    } else kept[i]!++;
  }
  while (kept.length > 0 && kept.at(-1) === 0) kept.pop();
  return { digits: kept, point };
}

function fixedText(d: Decimal, decimals: number): string {
  const padded = d.point <= 0 ? [...Array<number>(-d.point).fill(0), ...d.digits] : d.digits;
  const point = Math.max(d.point, 0);
  const whole = padded.slice(0, point).join("").padEnd(point, "0") || "0";
  const fraction = padded.slice(point).join("").padEnd(decimals, "0");
  return fraction === "" ? whole : `${whole}.${fraction}`;
}

/** Go's `%.Nf`: exact, rounded half to even (JavaScript's toFixed rounds ties up). */
export function goFixed(value: number, decimals: number): string {
  if (value === 0 || !Number.isFinite(value)) return (0).toFixed(decimals);
  const sign = value < 0 ? "-" : "";
  const d = exactDecimal(Math.abs(value));
  // Below half of the last decimal's unit: zero.
  if (d.point + decimals < 0) return (0).toFixed(decimals);
  return sign + fixedText(roundDigits(d, d.point + decimals), decimals);
}

/** Go's `%.Ng` (strconv 'g' with N significant digits) of a non-negative number. */
function goG(value: number, precision: number): string {
  if (value === 0) return "0";
  const d = roundDigits(exactDecimal(value), precision);
  const exp = d.point - 1;
  if (exp < -4 || exp >= precision) {
    const [first, ...more] = d.digits;
    const mantissa = more.length > 0 ? `${first}.${more.join("")}` : String(first);
    return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return fixedText(d, 0);
}

function customSize(size: number, precision: number, base: number, units: readonly string[]): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return `${goG(size, precision)}${units[i]}`;
}

/** Binary sizes as the docker CLI's MEM USAGE / LIMIT (go-units BytesSize): "1.5MiB". */
export function formatBinarySize(bytes: number): string {
  return customSize(bytes, 4, 1024, ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]);
}

/** Decimal sizes as the docker CLI's NET I/O and BLOCK I/O (HumanSizeWithPrecision 3): "1.2kB". */
export function formatDecimalSize(bytes: number): string {
  return customSize(bytes, 3, 1000, ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]);
}

/** The docker stats columns CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS as text. */
export function statsColumns(summary: StatsSummary): string[] {
  return [
    `${goFixed(summary.cpuPercent, 2)}%`,
    `${formatBinarySize(summary.memoryBytes)} / ${formatBinarySize(summary.memoryLimitBytes)}`,
    `${goFixed(memoryPercent(summary), 2)}%`,
    `${formatDecimalSize(summary.networkRxBytes)} / ${formatDecimalSize(summary.networkTxBytes)}`,
    `${formatDecimalSize(summary.blockReadBytes)} / ${formatDecimalSize(summary.blockWriteBytes)}`,
    String(summary.pids),
  ];
}
