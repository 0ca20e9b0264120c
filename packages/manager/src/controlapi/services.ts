// Control API: services. Specs are the user's; the store sets ids, versions and times.
import {
  NotFoundError,
  Service,
  ServiceSpec,
  UpdateState,
  newId,
  systemClock,
  type Clock,
  type CreateServiceRequest,
  type CreateServiceResponse,
  type GetServiceRequest,
  type GetServiceResponse,
  type ListServicesRequest,
  type ListServicesResponse,
  type RebalanceServiceRequest,
  type RebalanceServiceResponse,
  type RemoveServiceRequest,
  type RemoveServiceResponse,
  type ServiceFilters,
  type UpdateServiceRequest,
  type UpdateServiceResponse,
  InvalidArgumentError,
  ErrorCode,
  ShoalError,
} from "@shoal/shared";
import {
  isJobService,
  isRebalancing,
  jobStatusOnCreate,
  jobStatusOnUpdate,
  rebalanceMessages,
  rebalanceRefusal,
  remainingMoves,
  startRebalance,
  rescheduled,
  updateMessages,
} from "../orchestrator/index.js";
import type { MemoryStore, ReadTx } from "../state/store/index.js";
import { resolveRef } from "./resolve.js";
import { validateServiceSpec } from "./validate-service.js";
import { resolveSecretRefs } from "./secret-refs.js";
import { resolveServiceNetworks } from "./service-networks.js";
import { replicaStatuses } from "./service-status.js";

function sameTaskDefinition(a: ServiceSpec | undefined, b: ServiceSpec): boolean {
  const bytes = (x: ServiceSpec | undefined): string =>
    Buffer.from(
      ServiceSpec.encode(ServiceSpec.fromPartial({ taskTemplate: x?.taskTemplate, endpoint: x?.endpoint })).finish(),
    ).toString("base64");
  return bytes(a) === bytes(b);
}

/** Client writes carry the version they read: their conflicts are the client's to see. */
const PIPELINED = { pipelined: true } as const;

export function findService(tx: ReadTx, ref: string): Service {
  return resolveRef(
    "service",
    ref,
    (id) => tx.services.get(id),
    (name) => tx.services.find({ name })[0],
    (prefix) => tx.services.find({ idPrefix: prefix }),
  );
}

function withDefaults(spec: ServiceSpec): ServiceSpec {
  const copy = ServiceSpec.fromPartial(spec);
  copy.mode ??= { $case: "replicated", value: { replicas: 1 } };
  return copy;
}

/** Creates a service; a job gets its first run (or, scheduled, waits for its first tick). */
export async function createService(
  store: MemoryStore,
  req: CreateServiceRequest,
  clock: Clock = systemClock,
): Promise<CreateServiceResponse> {
  const spec = withDefaults(validateServiceSpec(req.spec));
  const id = newId();
  const service = await store.update((tx) => {
    const created = Service.fromPartial({ id, spec: resolveSecretRefs(tx, spec), specVersion: { index: 1 } });
    created.spec = resolveServiceNetworks(tx, created.spec!, id);
    created.jobStatus = jobStatusOnCreate(created, clock.now());
    tx.services.create(created);
    return tx.services.get(id)!;
  }, PIPELINED);
  return { service: store.view((tx) => tx.services.get(service.id)) ?? service };
}

export function getService(store: MemoryStore, req: GetServiceRequest): GetServiceResponse {
  return { service: store.view((tx) => findService(tx, req.serviceId)) };
}

export function matchesServiceFilters(service: Service, filters: ServiceFilters | undefined): boolean {
  if (!filters) return true;
  const name = service.spec?.annotations?.name ?? "";
  const labels = service.spec?.annotations?.labels ?? {};
  if (filters.names.length > 0 && !filters.names.includes(name)) return false;
  if (filters.namePrefixes.length > 0 && !filters.namePrefixes.some((p) => name.startsWith(p))) return false;
  if (filters.idPrefixes.length > 0 && !filters.idPrefixes.some((p) => service.id.startsWith(p))) return false;
  for (const [key, value] of Object.entries(filters.labels)) {
    if (!(key in labels) || (value !== "" && labels[key] !== value)) return false;
  }
  return true;
}

export function listServices(store: MemoryStore, req: ListServicesRequest): ListServicesResponse {
  return store.view((tx) => {
    const services = tx.services.find().filter((s) => matchesServiceFilters(s, req.filters));
    services.sort((a, b) => (a.spec?.annotations?.name ?? "").localeCompare(b.spec?.annotations?.name ?? ""));
    return { services, statuses: req.includeStatus ? replicaStatuses(tx, services) : [] };
  });
}

/**
 * Replaces the spec of a service, or (`rollback`) goes back to its previous one. A change to
 * what tasks run bumps the spec version and starts a rollout, which the updater carries out:
 * update status UPDATING ("update in progress") or ROLLBACK_STARTED ("manually requested
 * rollback"), started now. Jobs have no rollout: a change (or `--force`) starts a new run
 * instead (orchestrator/jobs/job-runs.ts), and a job cannot become a service or the other way
 * round. A request made from an older version of the service than the
 * store's is refused (SequenceConflictError naming both versions; ABORTED over gRPC).
 */
export async function updateService(
  store: MemoryStore,
  req: UpdateServiceRequest,
  clock: Clock = systemClock,
): Promise<UpdateServiceResponse> {
  if (!req.serviceVersion) throw new InvalidArgumentError("is required", { field: "service_version" });
  const version = req.serviceVersion;
  const id = await store.update((tx) => {
    const current = findService(tx, req.serviceId);
    let spec: ServiceSpec;
    if (req.rollback) {
      if (!current.previousSpec)
        throw new InvalidArgumentError("the service has no previous spec to roll back to", { field: "rollback" });
      spec = current.previousSpec;
    } else {
      spec = withDefaults(validateServiceSpec(req.spec));
      if (spec.annotations?.name !== current.spec?.annotations?.name) {
        throw new InvalidArgumentError("a service cannot be renamed", { field: "spec.annotations.name" });
      }
      checkModeChange(current, spec);
    }
    spec = resolveServiceNetworks(tx, resolveSecretRefs(tx, spec), current.id);
    const job = isJobService(current);
    // The spec version counts changes to what tasks run (their template and endpoint), not
    // scaling: tasks of an older version are the ones a rolling update replaces.
    const changed = !sameTaskDefinition(current.spec, spec);
    const now = clock.now();
    tx.services.update({
      ...current,
      meta: { ...current.meta!, version },
      previousSpec: changed ? current.spec : current.previousSpec,
      spec,
      specVersion: changed ? { index: (current.specVersion?.index ?? 0) + 1 } : current.specVersion,
      jobStatus: job ? rescheduled(current, spec, jobStatusOnUpdate(current, spec, now), now) : current.jobStatus,
      updateStatus:
        changed && !job
          ? {
              state: req.rollback ? UpdateState.ROLLBACK_STARTED : UpdateState.UPDATING,
              startedAt: new Date(now),
              completedAt: undefined,
              message: req.rollback ? updateMessages.manualRollback : updateMessages.updating,
            }
          : current.updateStatus,
    });
    return current.id;
  }, PIPELINED);
  const service = store.view((tx) => tx.services.get(id));
  if (!service) throw new NotFoundError("service", req.serviceId);
  return { service };
}

/** As SwarmKit: a job stays a job of its kind (replicated or global), and a service a service. */
function checkModeChange(current: Service, spec: ServiceSpec): void {
  const before = current.spec?.mode?.$case ?? "replicated";
  const after = spec.mode?.$case ?? "replicated";
  const job = (mode: string): boolean => mode === "replicatedJob" || mode === "globalJob";
  if (before !== after && (job(before) || job(after))) {
    throw new InvalidArgumentError(
      `a ${modeName(before)} cannot become a ${modeName(after)}: remove it and create it again`,
      {
        field: "spec.mode",
      },
    );
  }
}

function modeName(mode: string): string {
  return mode === "replicatedJob" ? "replicated job" : mode === "globalJob" ? "global job" : `${mode} service`;
}

export async function removeService(store: MemoryStore, req: RemoveServiceRequest): Promise<RemoveServiceResponse> {
  await store.update((tx) => {
    const service = findService(tx, req.serviceId);
    tx.services.delete(service.id);
  }, PIPELINED);
  return {};
}

/**
 * Starts moving the service's tasks to the spread the scheduler would choose now, through its
 * update config (the updater carries it out). Nothing changes when the spread is right already
 * (to_move 0); a rebalance under way is left as it is (to_move: what it still has to move).
 * FAILED_PRECONDITION for a global service, a job, or a service whose update is not done.
 */
export async function rebalanceService(
  store: MemoryStore,
  req: RebalanceServiceRequest,
  clock: Clock = systemClock,
): Promise<RebalanceServiceResponse> {
  const { id, toMove } = await store.update((tx) => {
    const service = findService(tx, req.serviceId);
    const tasks = tx.tasks.find({ serviceId: service.id });
    const refusal = rebalanceRefusal(service, tasks);
    if (refusal !== undefined) {
      throw new ShoalError(ErrorCode.FailedPrecondition, refusal, { details: { serviceId: service.id } });
    }
    if (isRebalancing(service)) return { id: service.id, toMove: remainingMoves(service, tasks) };
    return { id: service.id, toMove: startRebalance(tx, service, clock.now(), rebalanceMessages.started) };
  });
  const service = store.view((tx) => tx.services.get(id));
  if (!service) throw new NotFoundError("service", req.serviceId);
  return { service, toMove };
}
