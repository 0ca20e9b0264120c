// A simulated cluster for the dashboard's page test and benchmark: N nodes, services and tasks as
// /api/v1/state shows them.
import type { NodeView, ServiceView, StateSnapshot, TaskView } from "@shoal/dashboard";

const GIB = 1024 ** 3;
const TIME = "2026-01-01T00:00:00Z";

export function nodeHostname(index: number): string {
  return `node-${String(index).padStart(4, "0")}`;
}

export function serviceName(index: number): string {
  return `svc-${String(index).padStart(3, "0")}`;
}

export function fixtureNode(index: number): NodeView {
  return {
    id: `n${String(index).padStart(24, "0")}`,
    hostname: nodeHostname(index),
    role: index < 3 ? "manager" : "worker",
    status: "ready",
    availability: "active",
    managerStatus: index === 0 ? "leader" : index < 3 ? "reachable" : "",
    addr: `10.0.${Math.floor(index / 250)}.${(index % 250) + 1}`,
    engineVersion: "20.10.24",
    labels: {},
    resources: { nanoCpus: 4e9, memoryBytes: 8 * GIB },
    version: 1,
  };
}

export function fixtureService(index: number, replicas: number): ServiceView {
  return {
    id: `s${String(index).padStart(24, "0")}`,
    name: serviceName(index),
    mode: "replicated",
    replicas,
    image: "shoal-base:1",
    labels: {},
    ports: index === 0 ? ["8080:80/tcp"] : [],
    createdAt: TIME,
    updatedAt: TIME,
    version: 1,
  };
}

export function fixtureTask(service: ServiceView, slot: number, node: NodeView, version = 1): TaskView {
  return {
    id: `t${service.id.slice(-12)}${String(slot).padStart(12, "0")}`,
    serviceId: service.id,
    name: `${service.name}.${slot}`,
    slot,
    nodeId: node.id,
    desiredState: "running",
    state: "running",
    health: "",
    message: "started",
    error: "",
    containerId: `c${service.id.slice(-12)}${String(slot).padStart(12, "0")}`,
    image: service.image,
    since: TIME,
    reserved: { nanoCpus: 1e8, memoryBytes: 64 * 1024 * 1024 },
    version,
  };
}

/** nodes nodes, services services, and tasks tasks spread evenly over both. */
export function fixtureState(nodes: number, services: number, tasks: number): StateSnapshot {
  const nodeViews = Array.from({ length: nodes }, (_, i) => fixtureNode(i));
  const perService = Math.ceil(tasks / services);
  const serviceViews = Array.from({ length: services }, (_, i) => fixtureService(i, perService));
  const taskViews = Array.from({ length: tasks }, (_, i) => {
    const service = serviceViews[Math.floor(i / perService)]!;
    return fixtureTask(service, (i % perService) + 1, nodeViews[i % nodes]!);
  });
  return {
    clusterId: "c-fixture",
    managerNodeId: nodeViews[0]?.id ?? "",
    isLeader: true,
    index: 1,
    nodes: nodeViews,
    services: serviceViews,
    tasks: taskViews,
  };
}
