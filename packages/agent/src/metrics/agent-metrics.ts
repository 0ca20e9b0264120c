// An agent's Prometheus metrics, gathered without touching the worker: the executor is wrapped to
// count container starts and start errors, the status sink to follow each task's last reported
// state (tasks by state, task failures), and the session counts (re)connections.
import { TaskState, type TaskStatus } from "@shoal/shared";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { Controller, Executor } from "../exec/executor.js";
import type { StatusSink } from "../reporter.js";

const stateName = (s: number): string => (TaskState[s] ?? String(s)).toLowerCase();

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly states = new Map<string, TaskState>();
  private readonly starts: Counter;
  private readonly startErrors: Counter;
  private readonly failures: Counter;
  private readonly sessions: Counter;
  private sessionCount = 0;

  constructor(labels: Readonly<Record<string, string>> = {}) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ ...labels });
    collectDefaultMetrics({ register: this.registry, prefix: "shoal_agent_" });
    this.starts = new Counter({
      name: "shoal_agent_container_starts_total",
      help: "Containers this agent started.",
      registers,
    });
    this.startErrors = new Counter({
      name: "shoal_agent_container_start_errors_total",
      help: "Container starts that failed (the daemon refused, or the container was unhealthy).",
      registers,
    });
    this.failures = new Counter({
      name: "shoal_agent_task_failures_total",
      help: "Tasks this agent reported failed or rejected (a container that exited non-zero, died or failed to start).",
      registers,
    });
    this.sessions = new Counter({
      name: "shoal_agent_session_reconnects_total",
      help: "Sessions with a manager opened after the first (manager failover, network, restarts of managers).",
      registers,
    });
    const states = this.states;
    new Gauge({
      name: "shoal_agent_tasks",
      help: "Tasks of this agent by the last state it reported.",
      labelNames: ["state"],
      registers,
      collect() {
        this.reset();
        const counts = new Map<TaskState, number>();
        for (const s of states.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
        for (const [s, n] of counts) this.set({ state: stateName(s) }, n);
      },
    });
  }

  /** A session with a manager was opened. */
  sessionStarted(): void {
    if (this.sessionCount++ > 0) this.sessions.inc();
  }

  /** The executor, with container starts counted. */
  executor(inner: Executor): Executor {
    const count = (controller: Controller): Controller =>
      new Proxy(controller, {
        get: (target, prop) => {
          if (prop === "start") {
            return async (signal?: AbortSignal): Promise<void> => {
              try {
                await target.start(signal);
              } catch (err: unknown) {
                if (!signal?.aborted) this.startErrors.inc();
                throw err;
              }
              this.starts.inc();
            };
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    return new Proxy(inner, {
      get: (target, prop) => {
        if (prop === "controller") {
          return (...args: Parameters<Executor["controller"]>) => count(target.controller(...args));
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** The status sink, with each task's last state followed. */
  sink(inner: StatusSink): StatusSink {
    return {
      report: (taskId: string, status: TaskStatus) => {
        const before = this.states.get(taskId);
        this.states.set(taskId, status.state);
        const failed = status.state === TaskState.FAILED || status.state === TaskState.REJECTED;
        if (failed && before !== status.state) this.failures.inc();
        inner.report(taskId, status);
      },
      forget: (taskId: string) => {
        this.states.delete(taskId);
        inner.forget(taskId);
      },
    };
  }
}
