// How `shoal task top|stats` and `shoal service top|stats` print Docker's answers: top as
// `docker top` (a tabwriter of minimum width 20, padding 3), stats with the columns of
// `docker stats` plus the task's node.
import { statsColumns, summariseStats, type StatsSummary } from "@shoal/shared";
import { formatTable } from "../../output/table.js";

/** Docker's top answer. */
export interface TopAnswer {
  Titles: string[];
  Processes: string[][];
}

/** Docker's top answer from a JSON document; anything else is an empty one. */
export function topAnswer(json: unknown): TopAnswer {
  const doc = (typeof json === "object" && json !== null ? json : {}) as Partial<Record<keyof TopAnswer, unknown>>;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map((s) => String(s)) : []);
  return {
    Titles: strings(doc.Titles),
    Processes: Array.isArray(doc.Processes) ? doc.Processes.map(strings) : [],
  };
}

/** Lines as Go's tabwriter.NewWriter(out, 20, 1, 3, ' ', 0) aligns tab-separated cells. */
function tabwriter(lines: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const cells of lines) {
    cells.slice(0, -1).forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 20, cell.length + 3)));
  }
  return lines
    .map((cells) => cells.map((cell, i) => (i < cells.length - 1 ? cell.padEnd(widths[i]!) : cell)).join(""))
    .map((line) => `${line}\n`)
    .join("");
}

/** `docker top`'s output. */
export function topTable(top: TopAnswer): string {
  return tabwriter([top.Titles, ...top.Processes]);
}

/** One task's processes, for a service's top. */
export interface TaskTop {
  task: string;
  node: string;
  top: TopAnswer;
}

/** The processes of several tasks in one table: TASK and NODE, then ps's columns. */
export function serviceTopTable(tops: readonly TaskTop[]): string {
  const titles = tops.find((t) => t.top.Titles.length > 0)?.top.Titles ?? [];
  return tabwriter([
    ["TASK", "NODE", ...titles],
    ...tops.flatMap((t) => t.top.Processes.map((p) => [t.task, t.node, ...p])),
  ]);
}

/** One row of stats: which container, where, and its last sample's summary. */
export interface StatsRow {
  containerId: string;
  name: string;
  node: string;
  summary: StatsSummary;
}

export function statsRow(containerId: string, name: string, node: string, sample: unknown): StatsRow {
  return { containerId, name, node, summary: summariseStats(sample) };
}

/** `docker stats`' table with the task's node after its name. */
export function statsTable(rows: readonly StatsRow[]): string {
  return formatTable(
    ["CONTAINER ID", "NAME", "NODE", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"],
    rows.map((r) => [r.containerId.slice(0, 12), r.name, r.node, ...statsColumns(r.summary)]),
  );
}

/** `--json`: one object per row, with the summary's numbers. */
export function statsJson(rows: readonly StatsRow[]): string {
  return `${JSON.stringify(
    rows.map((r) => ({ containerId: r.containerId, name: r.name, node: r.node, ...r.summary })),
    null,
    2,
  )}\n`;
}
