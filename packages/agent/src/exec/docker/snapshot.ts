// Reading Docker's container inspect output into the executor's ContainerSnapshot.
import { HealthState } from "@shoal/shared";
import type { ContainerInspectInfo } from "dockerode";
import type { ContainerRunState, ContainerSnapshot } from "../executor.js";

/** Docker's health status word as the wire's HealthState. */
export function healthFromDocker(status: string | undefined): HealthState {
  switch (status) {
    case "starting":
      return HealthState.STARTING;
    case "healthy":
      return HealthState.HEALTHY;
    case "unhealthy":
      return HealthState.UNHEALTHY;
    case "none":
      return HealthState.NONE;
    default:
      return HealthState.UNKNOWN;
  }
}

/** The health in an event action such as "health_status: healthy". */
export function healthFromAction(action: string): HealthState | undefined {
  const m = /^health_status:\s*(\w+)/.exec(action);
  return m === null ? undefined : healthFromDocker(m[1]);
}

/** True when the container's config (its own or its image's) has a health check that runs. */
export function hasHealthcheck(info: ContainerInspectInfo): boolean {
  const test = info.Config.Healthcheck?.Test ?? [];
  return test.length > 0 && test[0] !== "NONE";
}

export function snapshotOf(info: ContainerInspectInfo): ContainerSnapshot {
  const state = info.State;
  let health = healthFromDocker(state.Health?.Status);
  if (health === HealthState.UNKNOWN && !hasHealthcheck(info)) health = HealthState.NONE;
  return {
    containerId: info.Id,
    state: state.Status as ContainerRunState,
    running: state.Running,
    exitCode: state.ExitCode,
    oomKilled: state.OOMKilled,
    health,
    error: state.Error,
    pid: state.Pid,
  };
}
