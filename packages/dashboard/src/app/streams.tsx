// Live streams of a service's page: its logs (following) and its tasks' stats.
import { useEffect, useRef } from "preact/hooks";
import { useSignal, type Signal } from "@preact/signals";
import type { LogLine, StatsSample } from "../api.js";
import { bytes } from "./format.js";
import { openStream, perFrame } from "./http.js";
import { model } from "./state.js";

const MAX_LINES = 1000;

/** The `error` event of a stats stream: a task whose stats call failed. */
interface StatsError {
  readonly taskId: string;
  readonly message: string;
}

function taskName(taskId: string): string {
  return model.tasks.get(taskId)?.name ?? taskId.slice(0, 12);
}

/** Follows a stream (while mounted) and hands over its events' items once per animation frame. */
export function useFramedStream<T>(
  path: string,
  events: readonly string[],
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
    const queue = (item: T): void => {
      queued.push(item);
      flush();
    };
    return openStream(path, Object.fromEntries(events.map((event) => [event, queue])), () => (ended.value = true));
  }, [path]);
}

export function Logs({ path }: { readonly path: string }) {
  const lines = useSignal<readonly { readonly seq: number; readonly log: LogLine }[]>([]);
  const counter = useRef(0);
  const ended = useSignal(false);
  const box = useRef<HTMLDivElement>(null);
  useFramedStream<LogLine>(
    path,
    ["log"],
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
          <span class="log-task">{taskName(log.taskId)}</span>
          {log.line}
        </div>
      ))}
      {ended.value && <div class="log-end">(the log stream ended)</div>}
    </div>
  );
}

export function Stats({ path }: { readonly path: string }) {
  const samples = useSignal<ReadonlyMap<string, StatsSample | StatsError>>(new Map());
  const ended = useSignal(false);
  useFramedStream<StatsSample | StatsError>(
    path,
    ["stats", "error"],
    (items) => {
      const next = new Map(samples.peek());
      for (const sample of items) next.set(sample.taskId, sample);
      for (const taskId of next.keys()) if (!model.tasks.get(taskId)) next.delete(taskId);
      samples.value = next;
    },
    ended,
  );
  const rows = [...samples.value.values()].sort((a, b) =>
    taskName(a.taskId).localeCompare(taskName(b.taskId), undefined, { numeric: true }),
  );
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
        {rows.map((sample) =>
          "message" in sample ? (
            <tr key={sample.taskId} data-testid={`stats-row-${sample.taskId}`}>
              <td>{taskName(sample.taskId)}</td>
              <td colSpan={5} class="error">
                {sample.message}
              </td>
            </tr>
          ) : (
            <tr key={sample.taskId} data-testid={`stats-row-${sample.taskId}`}>
              <td>{taskName(sample.taskId)}</td>
              <td data-col="cpu">{`${sample.cpuPercent.toFixed(1)}%`}</td>
              <td>{`${bytes(sample.memoryBytes)} / ${bytes(sample.memoryLimitBytes)}`}</td>
              <td>{`${bytes(sample.networkRxBytes)} / ${bytes(sample.networkTxBytes)}`}</td>
              <td>{`${bytes(sample.blockReadBytes)} / ${bytes(sample.blockWriteBytes)}`}</td>
              <td>{sample.pids}</td>
            </tr>
          ),
        )}
        {rows.length === 0 && (
          <tr>
            <td colSpan={6}>{ended.value ? "No stats (the stream ended)." : "Waiting for samples…"}</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
