// The dashboard's actions (docs/dashboard.md): scale, update image, rollback, remove a service, a
// node's availability. Each is a Control call over this manager's loopback (ControlCaller, as the
// Docker API makes them), so validation, versions and forwarding to the leader are the Control
// API's. Bodies are checked here first: a bad field is a 400 naming it, and nothing is called.
import {
  ErrorCode,
  InvalidArgumentError,
  NodeAvailability,
  ShoalError,
  type Service,
  type ServiceSpec,
} from "@shoal/shared";
import type { ControlCaller } from "../dockerapi/control-calls.js";

type Json = Record<string, unknown>;

function body(value: unknown): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError("must be a JSON object", { field: "body" });
  }
  return value as Json;
}

export function parseReplicas(value: unknown): number {
  const n = body(value)["replicas"];
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 100_000) {
    throw new InvalidArgumentError("must be a whole number from 0 to 100000", { field: "replicas" });
  }
  return n;
}

export function parseImage(value: unknown): string {
  const image = body(value)["image"];
  if (typeof image !== "string" || image.trim() === "" || image.length > 512 || /\s/.test(image)) {
    throw new InvalidArgumentError("must be an image reference (NAME[:TAG][@DIGEST])", { field: "image" });
  }
  return image;
}

const AVAILABILITY: Readonly<Record<string, NodeAvailability>> = {
  active: NodeAvailability.ACTIVE,
  pause: NodeAvailability.PAUSE,
  drain: NodeAvailability.DRAIN,
};

export function parseAvailability(value: unknown): NodeAvailability {
  const a = body(value)["availability"];
  const parsed = typeof a === "string" ? AVAILABILITY[a] : undefined;
  if (parsed === undefined) {
    throw new InvalidArgumentError('must be "active", "pause" or "drain"', { field: "availability" });
  }
  return parsed;
}

export class DashboardActions {
  constructor(private readonly control: ControlCaller) {}

  private async service(id: string): Promise<Service> {
    const { service } = await this.control.call("getService", { serviceId: id });
    if (!service?.spec) throw new ShoalError(ErrorCode.NotFound, `service ${id} not found`);
    return service;
  }

  private async update(service: Service, spec: ServiceSpec | undefined, rollback = false): Promise<void> {
    await this.control.call("updateService", {
      serviceId: service.id,
      serviceVersion: service.meta?.version,
      spec,
      rollback,
    });
  }

  async scale(id: string, replicas: number): Promise<void> {
    const service = await this.service(id);
    const spec = service.spec!;
    const mode = spec.mode;
    if (mode?.$case !== "replicated") {
      throw new ShoalError(ErrorCode.FailedPrecondition, "only a replicated service can be scaled");
    }
    await this.update(service, { ...spec, mode: { $case: "replicated", value: { ...mode.value, replicas } } });
  }

  async image(id: string, image: string): Promise<void> {
    const service = await this.service(id);
    const spec = service.spec!;
    const task = spec.taskTemplate;
    if (!task?.container) throw new ShoalError(ErrorCode.FailedPrecondition, "the service has no container spec");
    await this.update(service, { ...spec, taskTemplate: { ...task, container: { ...task.container, image } } });
  }

  /** As `shoal service rollback`: back to the previous spec. */
  async rollback(id: string): Promise<void> {
    await this.update(await this.service(id), undefined, true);
  }

  async remove(id: string): Promise<void> {
    await this.control.call("removeService", { serviceId: id });
  }

  async availability(id: string, availability: NodeAvailability): Promise<void> {
    const { node } = await this.control.call("getNode", { nodeId: id });
    if (!node) throw new ShoalError(ErrorCode.NotFound, `node ${id} not found`);
    const spec = node.spec ?? { annotations: undefined, desiredRole: node.role, availability: NodeAvailability.ACTIVE };
    await this.control.call("updateNode", {
      nodeId: node.id,
      nodeVersion: node.meta?.version,
      spec: { ...spec, availability },
    });
  }
}
