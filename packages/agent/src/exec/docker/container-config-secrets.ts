// The files of a task's secrets and configs in its container: each one bind-mounted read-only
// from the agent's memory-backed directory at its target (/run/secrets/NAME, /NAME for a config,
// or the absolute path given). Pure: the files are written by secrets/task-files.ts.
import type { ContainerCreateOptions, MountSettings } from "dockerode";
import type { TaskFile } from "../../secrets/task-files.js";

/** Docker's mounts for the task's files. */
export function taskFileMounts(files: readonly TaskFile[]): MountSettings[] {
  return files.map((f) => ({ Type: "bind", Source: f.source, Target: f.target, ReadOnly: true }));
}

/** `config` with the task's files mounted (after any mounts it has); `config` itself when none. */
export function withTaskFiles(config: ContainerCreateOptions, files: readonly TaskFile[]): ContainerCreateOptions {
  if (files.length === 0) return config;
  const host = config.HostConfig ?? {};
  return { ...config, HostConfig: { ...host, Mounts: [...(host.Mounts ?? []), ...taskFileMounts(files)] } };
}
