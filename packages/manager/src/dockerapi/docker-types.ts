// The Docker Engine API objects (v1.41) as far as Shoal reads or writes them, and the shapes
// that request bodies are decoded with (json-shape.ts). Fields Docker has and Shoal does not act
// on are accepted and kept (see unmapped-fields.ts), not rejected: their structs are listed with
// Docker's field names (`kept`) so that a key in any case is matched to its field, as Docker's
// daemon matches it, and given back in Docker's spelling.
import type { Shape } from "./json-shape.js";
import { MOUNTS_SHAPE, type DockerMount } from "./task-spec-mounts.js";
import { CONFIG_REFS_SHAPE, SECRET_REFS_SHAPE } from "./task-spec-secrets.js";

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
  Mounts?: (DockerMount | null)[] | null;
  [unmapped: string]: unknown;
}

export interface DockerResources {
  NanoCPUs?: number;
  MemoryBytes?: number;
  Pids?: number;
  [unmapped: string]: unknown;
}

export interface DockerNetworkAttachment {
  /** A network's id, name or unique id prefix in a request; its id once stored. */
  Target?: string;
  Aliases?: string[] | null;
  DriverOpts?: Labels | null;
  [unmapped: string]: unknown;
}

export interface DockerTaskSpec {
  ContainerSpec?: DockerContainerSpec | null;
  Resources?: { Limits?: DockerResources | null; Reservations?: DockerResources | null } | null;
  RestartPolicy?: { Condition?: string; Delay?: number; MaxAttempts?: number; Window?: number } | null;
  Placement?: {
    Constraints?: string[] | null;
    Preferences?: ({ Spread?: { SpreadDescriptor?: string } | null } | null)[] | null;
    MaxReplicas?: number;
    [unmapped: string]: unknown;
  } | null;
  ForceUpdate?: number;
  Networks?: (DockerNetworkAttachment | null)[] | null;
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
  Mode?: {
    Replicated?: { Replicas?: number } | null;
    Global?: object | null;
    ReplicatedJob?: { MaxConcurrent?: number | null; TotalCompletions?: number | null } | null;
    GlobalJob?: object | null;
    [unmapped: string]: unknown;
  } | null;
  UpdateConfig?: DockerUpdateConfig | null;
  RollbackConfig?: DockerUpdateConfig | null;
  EndpointSpec?: DockerEndpointSpec | null;
  /** Deprecated for TaskTemplate.Networks. */
  Networks?: (DockerNetworkAttachment | null)[] | null;
  [unmapped: string]: unknown;
}

const strings: Shape = { array: "string" };
const labels: Shape = { map: "string" };
/** A Docker struct Shoal keeps as given: fields matched as Docker matches them, other keys kept too. */
const kept = (fields: Record<string, Shape>): Shape => ({ object: fields, open: true });

const HEALTH: Shape = {
  object: { Test: strings, Interval: "number", Timeout: "number", Retries: "number", StartPeriod: "number" },
};

// Privileges is matched as Docker spells it; task-spec-container.ts refuses every part of it that
// is set to anything but its default (Shoal honours none of them).
const PRIVILEGES = kept({
  CredentialSpec: kept({ Config: "string", File: "string", Registry: "string" }),
  SELinuxContext: kept({ Disable: "boolean", User: "string", Role: "string", Type: "string", Level: "string" }),
  // Newer than API 1.41, but sent by newer CLIs (`"NoNewPrivileges": false`).
  Seccomp: kept({ Mode: "string", Profile: "any" }),
  AppArmor: kept({ Mode: "string" }),
  NoNewPrivileges: "boolean",
});

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
    // The rest of the container spec (task-spec-container.ts); Privileges is kept as given.
    Hostname: "string",
    Groups: strings,
    Privileges: PRIVILEGES,
    TTY: "boolean",
    OpenStdin: "boolean",
    ReadOnly: "boolean",
    Hosts: strings,
    DNSConfig: { object: { Nameservers: strings, Search: strings, Options: strings } },
    Isolation: "string",
    Init: "boolean",
    Sysctls: labels,
    CapabilityAdd: strings,
    CapabilityDrop: strings,
    Ulimits: { array: { object: { Name: "string", Hard: "number", Soft: "number" } } },
    Mounts: MOUNTS_SHAPE,
    Secrets: SECRET_REFS_SHAPE,
    Configs: CONFIG_REFS_SHAPE,
  },
};

const GENERIC_RESOURCE: Shape = {
  object: {
    NamedResourceSpec: { object: { Kind: "string", Value: "string" } },
    DiscreteResourceSpec: { object: { Kind: "string", Value: "number" } },
  },
};

const RESOURCES: Shape = {
  object: { NanoCPUs: "number", MemoryBytes: "number", Pids: "number", GenericResources: { array: GENERIC_RESOURCE } },
};

/** A service's networks: Target is a network's name or id, given back as its id (see network-targets.ts). */
const NETWORK_ATTACHMENTS: Shape = { array: kept({ Target: "string", Aliases: strings, DriverOpts: labels }) };

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
        Platforms: { array: { object: { Architecture: "string", OS: "string" } } },
      },
    },
    ForceUpdate: "number",
    Runtime: "string",
    Networks: NETWORK_ATTACHMENTS,
    LogDriver: { object: { Name: "string", Options: labels } },
    PluginSpec: kept({
      Name: "string",
      Remote: "string",
      Privileges: { array: kept({ Name: "string", Description: "string", Value: strings }) },
      Disabled: "boolean",
      Env: strings,
    }),
    NetworkAttachmentSpec: kept({ ContainerID: "string" }),
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
        ReplicatedJob: { object: { MaxConcurrent: "number", TotalCompletions: "number" } },
        GlobalJob: { object: {} },
      },
    },
    UpdateConfig: UPDATE_CONFIG,
    RollbackConfig: UPDATE_CONFIG,
    // Deprecated for TaskTemplate.Networks, still accepted.
    Networks: NETWORK_ATTACHMENTS,
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
  Internal?: boolean;
  Ingress?: boolean;
  EnableIPv6?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  Options?: Labels | null;
  IPAM?: {
    Driver?: string;
    Options?: Labels | null;
    Config?:
      ({ Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Labels | null } | null)[] | null;
  } | null;
  [unmapped: string]: unknown;
}

export const NETWORK_CREATE_SHAPE: Shape = {
  object: {
    Name: "string",
    Driver: "string",
    Labels: labels,
    Scope: "string",
    IPAM: kept({
      Driver: "string",
      Config: { array: kept({ Subnet: "string", IPRange: "string", Gateway: "string", AuxiliaryAddresses: labels }) },
      Options: labels,
    }),
    Internal: "boolean",
    Attachable: "boolean",
    Ingress: "boolean",
    ConfigOnly: "boolean",
    ConfigFrom: kept({ Network: "string" }),
    Options: labels,
    CheckDuplicate: "boolean",
    EnableIPv6: "boolean",
  },
};
