// Whether Docker said that the kernel killed a task's container for going over its memory limit.
//
// Docker tells an OOM kill two ways: the container's `oom` event, and State.OOMKilled in inspect.
// Both come from containerd's OOM notification, which is not ordered with the exit: the event
// usually comes just before `die`, but may come just after it, and some daemons set OOMKilled
// only when the notification came before the exit. So a container that exits 137 (SIGKILL) with
// no word of OOM yet is given a short while for its oom event to arrive (`within`), woken by
// the event itself rather than by polling inspect.
//
// Docker cannot tell an OOM kill that containerd did not see: its shim watches a container's
// cgroup for OOM only once the container has started, so a process killed for memory in its
// first instants exits 137 with neither the event nor the flag, as a plain SIGKILL.
import type { Clock } from "@shoal/shared";
import { controllerClosed } from "../progress.js";

type Waiter = (outcome: boolean | Error) => void;

export class OomWatch {
  private seenOom = false;
  private closed = false;
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly clock: Clock) {}

  /** True once the container's oom event has arrived. */
  get seen(): boolean {
    return this.seenOom;
  }

  /** The container's oom event arrived: wakes whoever waits for it. */
  record(): void {
    this.seenOom = true;
    this.settle(true);
  }

  /**
   * Resolves true when the oom event has arrived or arrives within `ms`, false once `ms` have
   * passed without it. Rejects when `signal` aborts or the watch is closed.
   */
  within(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.seenOom) return Promise.resolve(true);
    if (this.closed) return Promise.reject(controllerClosed());
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    return new Promise<boolean>((resolve, reject) => {
      const finish: Waiter = (outcome) => {
        this.waiters.delete(finish);
        timer.cancel();
        signal?.removeEventListener("abort", onAbort);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const onAbort = (): void => finish(signal?.reason as Error);
      const timer = this.clock.setTimeout(() => finish(false), ms);
      this.waiters.add(finish);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Ends the waits in progress with the controller-closed error; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settle(controllerClosed());
  }

  private settle(outcome: boolean | Error): void {
    for (const waiter of [...this.waiters]) waiter(outcome);
  }
}
