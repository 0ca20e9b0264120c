// Durations and sizes as Docker's flags take them: "5s", "1m30s", "250ms"; "512m", "1g", "1.5".
import { InvalidArgumentError } from "@shoal/shared";

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go-style duration ("1m30s", "500ms", "0"). */
export function parseDuration(value: string, flag: string): number {
  if (value === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== value.length) {
    throw new InvalidArgumentError(`"${value}" is not a duration (examples: 5s, 1m30s, 250ms)`, { field: flag });
  }
  return total;
}

const SIZES: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
};

/** Bytes of a size such as "512m" or "1g" (binary units, as docker's --memory). */
export function parseBytes(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  const factor = m ? SIZES[m[2]!.toLowerCase()] : undefined;
  if (!m || factor === undefined) {
    throw new InvalidArgumentError(`"${value}" is not a size (examples: 512m, 1g, 64k)`, { field: flag });
  }
  return Math.round(Number(m[1]) * factor);
}

/** Nano CPUs of a CPU count such as "0.5" or "2". */
export function parseCpus(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n >= 0)) {
    throw new InvalidArgumentError(`"${value}" is not a number of CPUs (examples: 0.5, 2)`, { field: flag });
  }
  return Math.round(n * 1e9);
}

/** A duration as Go prints it: "0s", "250ms", "5s", "1m30s", "1h0m0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${Math.round(ms * 1000) / 1000}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.round(((ms % 60_000) / 1000) * 1000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
