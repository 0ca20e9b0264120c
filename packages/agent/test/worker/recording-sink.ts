// A StatusSink that records what the worker and runners report.
import type { TaskState, TaskStatus } from "@shoal/shared";
import type { StatusSink } from "../../src/reporter.js";

export class RecordingSink implements StatusSink {
  readonly reports: { taskId: string; status: TaskStatus }[] = [];
  readonly forgotten: string[] = [];

  report(taskId: string, status: TaskStatus): void {
    this.reports.push({ taskId, status });
  }

  forget(taskId: string): void {
    this.forgotten.push(taskId);
  }

  /** The states reported for the task, in order, without repeats. */
  states(taskId: string): TaskState[] {
    const states: TaskState[] = [];
    for (const r of this.reports)
      if (r.taskId === taskId && states.at(-1) !== r.status.state) states.push(r.status.state);
    return states;
  }

  last(taskId: string): TaskStatus | undefined {
    return this.reports.findLast((r) => r.taskId === taskId)?.status;
  }
}
