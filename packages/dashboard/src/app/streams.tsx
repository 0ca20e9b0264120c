// Live streams of a service's page: its logs (following) and its tasks' stats.
import { useEffect, useRef } from "preact/hooks";
import { useSignal, type Signal } from "@preact/signals";
import type { LogLine, StatsSample } from "../api.js";
import { bytes } from "./format.js";
import { openStream, perFrame } from "./http.js";
import { model } from "./state.js";

const MAX_LINES = 1000;

/** Follows a stream (while mounted) and hands over its items once per animation frame. */
export function useFramedStream<T>(
  path: string,
  event: string,
  apply: (items: T[]) => void,
  ended: Signal<boolean>,
): void {
  useEffect(() => {
    let queued: T[] = [];
    const flush = perFrame(() => {
      const items = queued;
      queued = [];
      apply(items);
    });
    ended.value = false;
    return openStream(
      path,
      {
        [event]: (item: T) => {
          queued.push(item);
          flush();
        },
      },
      () => (ended.value = true),
    );
  }, [path]);
}

export function Logs({ path }: { readonly path: string }) {
  const lines = useSignal<readonly { readonly seq: number; readonly log: LogLine }[]>([]);
  const counter = useRef(0);
  const ended = useSignal(false);
  const box = useRef<HTMLDivElement>(null);
  useFramedStream<LogLine>(
    path,
    "log",
    (items) => {
      const numbered = items.map((log) => ({ seq: counter.current++, log }));
      lines.value = [...lines.peek(), ...numbered].slice(-MAX_LINES);
    },
    ended,
  );
  useEffect(() => {
    const element = box.current;
    if (element) element.scrollTop = element.scrollHeight;
  });
  return (
    <div class="logs" data-testid="logs" ref={box}>
      {lines.value.map(({ seq, log }) => (
        <div class={`log-line ${log.stream}`} data-testid="log-line" key={seq}>
          <span class="log-task">{model.tasks.get(log.taskId)?.name ?? log.taskId.slice(0, 12)}</span>
          {log.line}
        </div>
      ))}
      {ended.value && <div class="log-end">(the log stream ended)</div>}
    </div>
  );
}

export function Stats({ path }: { readonly path: string }) {
  const samples = useSignal<ReadonlyMap<string, StatsSample>>(new Map());
  const ended = useSignal(false);
  useFramedStream<StatsSample>(
    path,
    "stats",
    (items) => {
      const next = new Map(samples.peek());
      for (const sample of items) next.set(sample.taskId, sample);
      for (const taskId of next.keys()) if (!model.tasks.get(taskId)) next.delete(taskId);
      samples.value = next;
    },
    ended,
  );
  const rows = [...samples.value.values()].sort((a, b) => a.taskId.localeCompare(b.taskId));
  return (
    <table class="stats" data-testid="stats-table">
      <thead>
        <tr>
          <th>Task</th>
          <th>CPU</th>
          <th>Memory</th>
          <th>Net rx / tx</th>
          <th>Block read / write</th>
          <th>PIDs</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((sample) => (
          <tr key={sample.taskId} data-testid={`stats-row-${sample.taskId}`}>
            <td>{model.tasks.get(sample.taskId)?.name ?? sample.taskId.slice(0, 12)}</td>
            <td data-col="cpu">{`${sample.cpuPercent.toFixed(1)}%`}</td>
            <td>{`${bytes(sample.memoryBytes)} / ${bytes(sample.memoryLimitBytes)}`}</td>
            <td>{`${bytes(sample.networkRxBytes)} / ${bytes(sample.networkTxBytes)}`}</td>
            <td>{`${bytes(sample.blockReadBytes)} / ${bytes(sample.blockWriteBytes)}`}</td>
            <td>{sample.pids}</td>
          </tr>
        ))}
        {rows.length === 0 && (
          <tr>
            <td colSpan={6}>{ended.value ? "No stats (the stream ended)." : "Waiting for samples…"}</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
