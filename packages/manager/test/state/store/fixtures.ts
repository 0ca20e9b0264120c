// Objects of a realistic size for the store's tests and its memory measurement.
import {
  Cluster,
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  PortProtocol,
  PublishMode,
  RestartCondition,
  Service,
  Task,
  TaskState,
  durationFromMs,
  newId,
  type ServiceSpec,
  type TaskSpec,
  ContainerSpec,
} from "@shoal/shared";

export function taskSpec(image = "registry.example.com:5000/team/web-frontend:1.24.3"): TaskSpec {
  return {
    container: {
      ...ContainerSpec.create(),
      image,
      command: [],
      args: ["--port", "8080", "--log-format", "json"],
      env: [
        "NODE_ENV=production",
        "PORT=8080",
        "LOG_LEVEL=info",
        "DATABASE_URL=postgres://web@db.internal:5432/web",
        "CACHE_URL=redis://cache.internal:6379/0",
        "FEATURE_FLAGS=new-checkout,fast-search",
      ],
      labels: { "com.example.team": "web", "com.example.tier": "frontend", "com.example.cost-center": "cc-4411" },
      dir: "/app",
      user: "1000:1000",
      healthcheck: {
        test: ["CMD-SHELL", "wget -q -O- http://localhost:8080/health || exit 1"],
        interval: durationFromMs(10_000),
        timeout: durationFromMs(2_000),
        startPeriod: durationFromMs(5_000),
        retries: 3,
      },
      stopSignal: "SIGTERM",
      stopGracePeriod: durationFromMs(10_000),
    },
    resources: {
      limits: { nanoCpus: 500_000_000, memoryBytes: 268_435_456, pids: 0, generic: [] },
      reservations: { nanoCpus: 250_000_000, memoryBytes: 134_217_728, pids: 0, generic: [] },
    },
    restartPolicy: {
      condition: RestartCondition.ON_FAILURE,
      delay: durationFromMs(5_000),
      maxAttempts: 3,
      window: durationFromMs(60_000),
    },
    placement: {
      constraints: ["node.role==worker", "node.labels.zone!=eu-west-3c"],
      preferences: [{ preference: { $case: "spread", value: { spreadDescriptor: "node.labels.zone" } } }],
      maxReplicasPerNode: 2,
      platforms: [],
    },
    forceUpdate: 0,
    logDriver: undefined,
    networks: [],
  };
}

export function serviceSpec(name: string, replicas = 3): ServiceSpec {
  return {
    annotations: { name, labels: { "com.example.team": "web", "com.example.env": "prod" } },
    taskTemplate: taskSpec(),
    mode: { $case: "replicated", value: { replicas } },
    schedule: undefined,
    rebalance: 0,
    updateConfig: undefined,
    rollbackConfig: undefined,
    endpoint: {
      ports: [
        {
          name: "http",
          protocol: PortProtocol.TCP,
          targetPort: 8080,
          publishedPort: 80,
          publishMode: PublishMode.INGRESS,
        },
      ],
      mode: 0,
    },
  };
}

export function makeService(name: string, id: string = newId()): Service {
  return Service.fromPartial({ id, spec: serviceSpec(name), specVersion: { index: 1 } });
}

export function makeNode(hostname: string, id: string = newId()): Node {
  return Node.fromPartial({
    id,
    spec: {
      annotations: { name: "", labels: { zone: "eu-west-3a" } },
      desiredRole: NodeRole.WORKER,
      availability: NodeAvailability.ACTIVE,
    },
    description: {
      hostname,
      platform: { os: "linux", architecture: "amd64" },
      resources: { nanoCpus: 8_000_000_000, memoryBytes: 34_359_738_368, pids: 0, generic: [] },
      engine: { engineVersion: "27.5.1", labels: {} },
    },
    status: { state: NodeState.READY, message: "", addr: "10.0.3.17" },
    role: NodeRole.WORKER,
  });
}

export function makeCluster(name = "default", id: string = newId()): Cluster {
  return Cluster.fromPartial({
    id,
    spec: { annotations: { name, labels: {} }, orchestration: { taskHistoryRetentionLimit: 5 } },
    rootJoinTokens: { worker: "SWMTKN-1-worker-" + id, manager: "SWMTKN-1-manager-" + id },
  });
}

/** A running task of `service`, as the store holds thousands of them. */
export function makeTask(service: Service, slot: number, nodeId: string, id: string = newId()): Task {
  const name = service.spec?.annotations?.name ?? "svc";
  return Task.fromPartial({
    id,
    spec: service.spec?.taskTemplate ?? taskSpec(),
    serviceId: service.id,
    slot,
    nodeId,
    annotations: { name: `${name}.${slot}`, labels: {} },
    serviceAnnotations: service.spec?.annotations ?? { name, labels: {} },
    status: {
      timestamp: new Date(1_760_000_000_000 + slot),
      state: TaskState.RUNNING,
      message: "started",
      err: "",
      containerStatus: { containerId: "3f4e".repeat(16), pid: 4242 + slot, exitCode: 0 },
      portStatus: { ports: [] },
    },
    desiredState: TaskState.RUNNING,
    specVersion: { index: 1 },
  });
}
