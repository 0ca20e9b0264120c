// The opening message of a container call (containers.proto), for the CLI, the Docker API and the
// dashboard alike, and the ages of task containers as the docker CLI words them.
import type { ContainerCallOpen, ContainerOp } from "./api.js";

/** A ContainerCallOpen with every field present: those not given are empty. */
export function containerOpen(
  container: string,
  op: ContainerOp,
  fields: Partial<ContainerCallOpen> = {},
): ContainerCallOpen {
  return {
    container,
    op,
    exec: undefined,
    attach: undefined,
    top: undefined,
    stats: undefined,
    size: undefined,
    caller: "",
    ...fields,
  };
}

/** Go's units.HumanDuration, as docker ps writes "Up 3 minutes" and "2 hours ago". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}
