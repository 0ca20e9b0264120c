// A container spec's secret and config references, Docker's <-> Shoal's:
//   Secrets: [{ File: { Name, UID, GID, Mode }, SecretID, SecretName }]
//   Configs: [{ File: { Name, UID, GID, Mode }, Runtime, ConfigID, ConfigName }]
// Mode is a number (Go's os.FileMode: 292 is 0444). A config's Runtime target (credential specs,
// Windows only) is refused. The manager resolves names to ids and checks the references.
import {
  InvalidArgumentError,
  type ConfigReference,
  type ContainerSpec,
  type FileTarget,
  type SecretReference,
} from "@shoal/shared";
import type { Shape } from "./json-shape.js";
import { whole } from "./spec-values.js";

interface DockerFile {
  Name?: string;
  UID?: string;
  GID?: string;
  Mode?: number;
}

interface DockerSecretRef {
  File?: DockerFile | null;
  SecretID?: string;
  SecretName?: string;
}

interface DockerConfigRef {
  File?: DockerFile | null;
  Runtime?: unknown;
  ConfigID?: string;
  ConfigName?: string;
}

const FILE: Shape = { object: { Name: "string", UID: "string", GID: "string", Mode: "number" } };

export const SECRET_REFS_SHAPE: Shape = {
  array: { object: { File: FILE, SecretID: "string", SecretName: "string" } },
};

export const CONFIG_REFS_SHAPE: Shape = {
  array: { object: { File: FILE, Runtime: "any", ConfigID: "string", ConfigName: "string" } },
};

const C = "TaskTemplate.ContainerSpec";

function fromDockerFile(f: DockerFile | null | undefined, field: string): FileTarget | undefined {
  if (!f) return undefined;
  return { name: f.Name ?? "", uid: f.UID ?? "", gid: f.GID ?? "", mode: whole(f.Mode, `${field}.File.Mode`) };
}

const list = <T>(value: unknown): T[] =>
  (Array.isArray(value) ? (value as (T | null)[]) : []).filter((x) => x !== null) as T[];

/** Docker's Secrets and Configs (already checked against their shapes) as Shoal's references. */
export function fromDockerSecretRefs(c: Record<string, unknown>): Pick<ContainerSpec, "secrets" | "configs"> {
  const secrets = list<DockerSecretRef>(c["Secrets"]).map((r, i): SecretReference => ({
    secretId: r.SecretID ?? "",
    secretName: r.SecretName ?? "",
    file: fromDockerFile(r.File, `${C}.Secrets[${i}]`),
  }));
  const configs = list<DockerConfigRef>(c["Configs"]).map((r, i): ConfigReference => {
    const field = `${C}.Configs[${i}]`;
    if (r.Runtime != null) {
      throw new InvalidArgumentError("is not supported by Shoal (a config as a runtime target)", {
        field: `${field}.Runtime`,
      });
    }
    return { configId: r.ConfigID ?? "", configName: r.ConfigName ?? "", file: fromDockerFile(r.File, field) };
  });
  return { secrets, configs };
}

function toDockerFile(f: FileTarget | undefined): DockerFile | undefined {
  return f && { Name: f.name, UID: f.uid, GID: f.gid, Mode: f.mode };
}

/** Shoal's references as Docker's Secrets and Configs (left out when there are none). */
export function toDockerSecretRefs(c: ContainerSpec | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (c && c.secrets.length > 0) {
    out["Secrets"] = c.secrets.map((r) => ({
      File: toDockerFile(r.file),
      SecretID: r.secretId,
      SecretName: r.secretName,
    }));
  }
  if (c && c.configs.length > 0) {
    out["Configs"] = c.configs.map((r) => ({
      File: toDockerFile(r.file),
      ConfigID: r.configId,
      ConfigName: r.configName,
    }));
  }
  return out;
}
