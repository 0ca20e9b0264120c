import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  formatBinarySize,
  formatDecimalSize,
  goFixed,
  memoryPercent,
  statsColumns,
  summariseStats,
} from "../src/container-stats.js";

// A sample recorded from dockerd 20.10 (cgroup v1) with block and network counters added; the
// expected columns are what the stock docker CLI printed for it (served by a fake daemon).
const sample = JSON.parse(
  readFileSync(new URL("./fixtures/docker-stats-cgroup1.json", import.meta.url), "utf8"),
) as Record<string, Record<string, unknown>>;

describe("summariseStats", () => {
  it("summarises a cgroup v1 sample as the docker CLI does", () => {
    const s = summariseStats(sample);
    expect(s).toEqual({
      cpuPercent: ((4048908477 - 3045196364) / (93168230000000 - 93166240000000)) * 2 * 100,
      memoryBytes: 23281664 - 22032384,
      memoryLimitBytes: 67108864,
      networkRxBytes: 736 + 999700,
      networkTxBytes: 1536,
      blockReadBytes: 1234567 + 1000,
      blockWriteBytes: 8192,
      pids: 1,
    });
    // docker stats --no-stream: 100.88%   1.191MiB / 64MiB   1.86%   1MB / 1.54kB   1.24MB / 8.19kB   1
    expect(statsColumns(s)).toEqual(["100.88%", "1.191MiB / 64MiB", "1.86%", "1MB / 1.54kB", "1.24MB / 8.19kB", "1"]);
  });

  it("uses inactive_file on cgroup v2 and the per-CPU count when online_cpus is missing", () => {
    const memory = sample["memory_stats"]!;
    const stats = Object.fromEntries(
      Object.entries(memory["stats"] as Record<string, number>).filter(([k]) => !k.startsWith("total_")),
    );
    const v2 = {
      ...sample,
      cpu_stats: { ...sample["cpu_stats"], online_cpus: 0 },
      memory_stats: { usage: 1073741824 + 5000000, limit: 8 * 1073741824, stats: { ...stats, inactive_file: 1000000 } },
      pids_stats: { current: 17 },
      blkio_stats: {
        io_service_bytes_recursive: [
          { op: "read", value: 999999999 },
          { op: "write", value: 10125 },
        ],
      },
    };
    // The docker CLI printed: 100.88%   1.004GiB / 8GiB   12.55%   1MB / 1.54kB   1e+03MB / 10.1kB   17
    expect(statsColumns(summariseStats(v2))).toEqual([
      "100.88%",
      "1.004GiB / 8GiB",
      "12.55%",
      "1MB / 1.54kB",
      "1e+03MB / 10.1kB",
      "17",
    ]);
  });

  it("counts a malformed or empty sample as zeros", () => {
    const zero = summariseStats({ cpu_stats: "x", memory_stats: { usage: "1" }, networks: [1], blkio_stats: null });
    expect(Object.values(zero).every((v) => v === 0)).toBe(true);
    expect(summariseStats(undefined).pids).toBe(0);
    expect(memoryPercent(zero)).toBe(0);
    expect(statsColumns(zero)).toEqual(["0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0"]);
  });

  it("has no CPU % when the system's CPU time did not move", () => {
    const cpu = sample["cpu_stats"]!;
    expect(summariseStats({ ...sample, precpu_stats: { ...cpu, cpu_usage: {} } }).cpuPercent).toBe(0);
  });
});

describe("sizes and percentages as Go prints them", () => {
  it("formats binary sizes with %.4g", () => {
    expect(formatBinarySize(0)).toBe("0B");
    expect(formatBinarySize(1023)).toBe("1023B");
    expect(formatBinarySize(1024)).toBe("1KiB");
    expect(formatBinarySize(1536)).toBe("1.5KiB");
    expect(formatBinarySize(1024 * 1024 - 1)).toBe("1024KiB");
    expect(formatBinarySize(10.125 * 1024 * 1024 * 1024)).toBe("10.12GiB"); // a tie: half to even
  });

  it("formats decimal sizes with %.3g", () => {
    expect(formatDecimalSize(999)).toBe("999B");
    expect(formatDecimalSize(1000)).toBe("1kB");
    expect(formatDecimalSize(999_700)).toBe("1e+03kB");
    expect(formatDecimalSize(123_456_789)).toBe("123MB");
  });

  it("rounds %.2f ties to even", () => {
    expect(goFixed(0.125, 2)).toBe("0.12");
    expect(goFixed(0.375, 2)).toBe("0.38");
    expect(goFixed(0.004, 2)).toBe("0.00");
    expect(goFixed(0.006, 2)).toBe("0.01");
    expect(goFixed(99.999, 2)).toBe("100.00");
    expect(goFixed(250, 2)).toBe("250.00");
  });
});
