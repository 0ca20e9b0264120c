import { describe, expect, it } from "vitest";
import {
  serviceTopTable,
  statsJson,
  statsRow,
  statsTable,
  topAnswer,
  topTable,
} from "../../../src/commands/task/container-output.js";

const top = {
  Titles: ["PID", "USER", "TIME", "COMMAND"],
  Processes: [
    ["12345", "root", "0:00", "sleep 1000000"],
    ["12399", "root", "0:00", "sh"],
  ],
};

describe("top", () => {
  it("prints as docker top: columns at least 20 wide, three spaces of padding", () => {
    expect(topTable(top)).toBe(
      "PID                 USER                TIME                COMMAND\n" +
        "12345               root                0:00                sleep 1000000\n" +
        "12399               root                0:00                sh\n",
    );
  });

  it("prints a service's tasks in one table with TASK and NODE", () => {
    const out = serviceTopTable([
      { task: "web.1.abcdefghijklmnopqrstu", node: "host-a", top },
      { task: "web.2.bcdefghijklmnopqrstuv", node: "host-b", top: { ...top, Processes: [top.Processes[0]!] } },
    ]).split("\n");
    expect(out[0]).toBe(
      `${"TASK".padEnd(30)}${"NODE".padEnd(20)}PID                 USER                TIME                COMMAND`,
    );
    expect(out[1]).toMatch(/^web\.1\.abcdefghijklmnopqrstu {3}host-a {14}12345 /);
    expect(out[3]).toMatch(/^web\.2\.bcdefghijklmnopqrstuv {3}host-b .*sleep 1000000$/);
    expect(out).toHaveLength(5);
  });

  it("reads a malformed answer as an empty one", () => {
    expect(topAnswer("nope")).toEqual({ Titles: [], Processes: [] });
    expect(topAnswer({ Titles: [1], Processes: [[2]] })).toEqual({ Titles: ["1"], Processes: [["2"]] });
  });
});

describe("stats", () => {
  it("prints docker stats' columns with the node", () => {
    const sample = {
      cpu_stats: { cpu_usage: { total_usage: 2_000_000 }, system_cpu_usage: 200_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 100_000_000 },
      memory_stats: { usage: 2_097_152, limit: 1_073_741_824, stats: { inactive_file: 1_048_576 } },
      networks: { eth0: { rx_bytes: 1500, tx_bytes: 700 } },
      pids_stats: { current: 3 },
    };
    const out = statsTable([statsRow("0123456789abcdef", "web.1.t1", "host-a", sample)]).split("\n");
    expect(out[0]).toMatch(/^CONTAINER ID +NAME +NODE +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS$/);
    expect(out[1]).toMatch(
      /^0123456789ab +web\.1\.t1 +host-a +2\.00% +1MiB \/ 1GiB +0\.10% +1\.5kB \/ 700B +0B \/ 0B +3$/,
    );
    const [json] = JSON.parse(statsJson([statsRow("0123456789abcdef", "web.1.t1", "host-a", sample)])) as object[];
    expect(json).toMatchObject({
      containerId: "0123456789abcdef",
      node: "host-a",
      cpuPercent: 2,
      memoryBytes: 1_048_576,
      pids: 3,
    });
  });
});
