// The Docker Engine API objects (v1.41) as far as Shoal reads or writes them, and the shapes
// that request bodies are checked against. Fields Docker has and Shoal does not act on are
// listed as "any": they are accepted and kept (see unmapped-fields.ts), not rejected.
import type { Shape } from "./json-shape.js";

export type Labels = Record<string, string>;

export interface DockerHealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

export interface DockerContainerSpec {
  Image?: string;
  Labels?: Labels | null;
  Command?: string[] | null;
  Args?: string[] | null;
  Env?: string[] | null;
  Dir?: string;
  User?: string;
  Healthcheck?: DockerHealthConfig | null;
  StopSignal?: string;
  StopGracePeriod?: number;
  [unmapped: string]: unknown;
}

export interface DockerResources {
  NanoCPUs?: number;
  MemoryBytes?: number;
  [unmapped: string]: unknown;
}

export interface DockerTaskSpec {
  ContainerSpec?: DockerContainerSpec | null;
  Resources?: { Limits?: DockerResources | null; Reservations?: DockerResources | null } | null;
  RestartPolicy?: { Condition?: string; Delay?: number; MaxAttempts?: number; Window?: number } | null;
  Placement?: {
    Constraints?: string[] | null;
    Preferences?: { Spread?: { SpreadDescriptor?: string } | null }[] | null;
    MaxReplicas?: number;
    [unmapped: string]: unknown;
  } | null;
  ForceUpdate?: number;
  [unmapped: string]: unknown;
}

export interface DockerUpdateConfig {
  Parallelism?: number;
  Delay?: number;
  FailureAction?: string;
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: string;
}

export interface DockerPortConfig {
  Name?: string;
  Protocol?: string;
  TargetPort?: number;
  PublishedPort?: number;
  PublishMode?: string;
}

export interface DockerEndpointSpec {
  Mode?: string;
  Ports?: DockerPortConfig[] | null;
}

export interface DockerServiceSpec {
  Name?: string;
  Labels?: Labels | null;
  TaskTemplate?: DockerTaskSpec | null;
  Mode?: { Replicated?: { Replicas?: number } | null; Global?: object | null; [unmapped: string]: unknown } | null;
  UpdateConfig?: DockerUpdateConfig | null;
  RollbackConfig?: DockerUpdateConfig | null;
  EndpointSpec?: DockerEndpointSpec | null;
  [unmapped: string]: unknown;
}

const strings: Shape = { array: "string" };
const labels: Shape = { map: "string" };

const HEALTH: Shape = {
  object: { Test: strings, Interval: "number", Timeout: "number", Retries: "number", StartPeriod: "number" },
};

const CONTAINER_SPEC: Shape = {
  object: {
    Image: "string",
    Labels: labels,
    Command: strings,
    Args: strings,
    Env: strings,
    Dir: "string",
    User: "string",
    Healthcheck: HEALTH,
    StopSignal: "string",
    StopGracePeriod: "number",
    // Kept as given; Shoal does not act on them.
    Hostname: "any",
    Groups: "any",
    Privileges: "any",
    TTY: "any",
    OpenStdin: "any",
    ReadOnly: "any",
    Hosts: "any",
    DNSConfig: "any",
    Isolation: "any",
    Init: "any",
    Sysctls: "any",
    CapabilityAdd: "any",
    CapabilityDrop: "any",
    Ulimits: "any",
    // Refused unless empty (see refuseUnsupported in service-spec.ts).
    Mounts: "any",
    Secrets: "any",
    Configs: "any",
  },
};

const RESOURCES: Shape = {
  object: { NanoCPUs: "number", MemoryBytes: "number", Pids: "any", GenericResources: "any" },
};

const TASK_SPEC: Shape = {
  object: {
    ContainerSpec: CONTAINER_SPEC,
    Resources: { object: { Limits: RESOURCES, Reservations: RESOURCES } },
    RestartPolicy: {
      object: { Condition: "string", Delay: "number", MaxAttempts: "number", Window: "number" },
    },
    Placement: {
      object: {
        Constraints: strings,
        Preferences: { array: { object: { Spread: { object: { SpreadDescriptor: "string" } } } } },
        MaxReplicas: "number",
        Platforms: "any",
      },
    },
    ForceUpdate: "number",
    Runtime: "any",
    Networks: "any",
    LogDriver: "any",
    PluginSpec: "any",
    NetworkAttachmentSpec: "any",
  },
};

const UPDATE_CONFIG: Shape = {
  object: {
    Parallelism: "number",
    Delay: "number",
    FailureAction: "string",
    Monitor: "number",
    MaxFailureRatio: "number",
    Order: "string",
  },
};

export const SERVICE_SPEC_SHAPE: Shape = {
  object: {
    Name: "string",
    Labels: labels,
    TaskTemplate: TASK_SPEC,
    Mode: {
      object: {
        Replicated: { object: { Replicas: "number" } },
        Global: { object: {} },
        ReplicatedJob: "any",
        GlobalJob: "any",
      },
    },
    UpdateConfig: UPDATE_CONFIG,
    RollbackConfig: UPDATE_CONFIG,
    Networks: "any",
    EndpointSpec: {
      object: {
        Mode: "string",
        Ports: {
          array: {
            object: {
              Name: "string",
              Protocol: "string",
              TargetPort: "number",
              PublishedPort: "number",
              PublishMode: "string",
            },
          },
        },
      },
    },
  },
};

export interface DockerNodeSpec {
  Name?: string;
  Labels?: Labels | null;
  Role?: string;
  Availability?: string;
}

export const NODE_SPEC_SHAPE: Shape = {
  object: { Name: "string", Labels: labels, Role: "string", Availability: "string" },
};

export interface DockerNetworkCreate {
  Name?: string;
  Driver?: string;
  Labels?: Labels | null;
  Attachable?: boolean;
  [unmapped: string]: unknown;
}

export const NETWORK_CREATE_SHAPE: Shape = {
  object: {
    Name: "string",
    Driver: "string",
    Labels: labels,
    Scope: "any",
    IPAM: "any",
    Internal: "any",
    Attachable: "any",
    Ingress: "any",
    ConfigOnly: "any",
    ConfigFrom: "any",
    Options: "any",
    CheckDuplicate: "any",
    EnableIPv6: "any",
  },
};
