// A service's task counts, as `service ls` shows them (REPLICAS "2/3", a job's "3/3 (4/10
// completed)"): counted by the manager from the service's own tasks (the store's service index),
// so that a client showing REPLICAS lists services, not every task of the cluster.
import { HealthState, TaskState, type ServiceReplicaStatus, type Service, type Task } from "@shoal/shared";
import { jobProgress } from "../orchestrator/index.js";
import type { ReadTx } from "../state/store/index.js";

/** The counts of `service` from `tasks` (any tasks: others are ignored). */
export function replicaStatus(service: Service, tasks: readonly Task[]): ServiceReplicaStatus {
  const job = jobProgress(service, tasks);
  if (job !== undefined) {
    const { running, desired, completed, total } = job;
    return { serviceId: service.id, running, unhealthy: 0, desired, completed, total };
  }
  const live = tasks.filter((t) => t.serviceId === service.id && t.desiredState === TaskState.RUNNING);
  const running = live.filter((t) => t.status?.state === TaskState.RUNNING);
  const unhealthy = running.filter((t) => t.status?.health === HealthState.UNHEALTHY).length;
  const mode = service.spec?.mode;
  return {
    serviceId: service.id,
    running: running.length - unhealthy,
    unhealthy,
    desired: mode?.$case === "replicated" ? mode.value.replicas : live.length,
    completed: 0,
    total: 0,
  };
}

/** The counts of each service, in order, from the tasks of that service alone. */
export function replicaStatuses(tx: ReadTx, services: readonly Service[]): ServiceReplicaStatus[] {
  // Counted without copies (scan): `service ls` of a 100,000-task service copied every task.
  return services.map((s) => replicaStatus(s, tx.tasks.scan({ serviceId: s.id })));
}
