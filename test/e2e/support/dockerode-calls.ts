// What the dockerode suite (sdk-dockerode.test.ts) needs besides dockerode itself: the service
// spec with every field Docker's API has for a replicated service, waits for running tasks,
// log lines from a service's multiplexed stream, and the HTTP status of a failed call.
import type Docker from "dockerode";
import { expect } from "vitest";
import { logFrames, type LogFrame } from "./docker-shapes.js";

export type Json = Record<string, unknown>;

const S = 1_000_000_000;
const MIB = 1024 * 1024;

/**
 * A replicated service "js-full" with every ServiceSpec field Shoal maps, and some it keeps as
 * given, on the network `network` (by name; Docker stores its ID). Two replicas, each on its own
 * worker (the published host port allows one per node).
 */
export function fullSpec(image: string, network: string): Json {
  return {
    Name: "js-full",
    Labels: { team: "js" },
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        Labels: { cl: "1" },
        Command: ["sleep"],
        Args: ["3600"],
        Env: ["A=1", "B=two"],
        Dir: "/",
        User: "0",
        StopSignal: "SIGTERM",
        StopGracePeriod: 3 * S,
        Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: S, Timeout: 2 * S, Retries: 3, StartPeriod: S },
        Hostname: "js-full",
        Hosts: ["10.9.9.9 js.example"],
        DNSConfig: { Nameservers: ["10.9.9.53"], Search: ["example"], Options: ["ndots:1"] },
        Init: false,
        Groups: ["100"],
        ReadOnly: true,
        CapabilityAdd: ["CAP_NET_ADMIN"],
        CapabilityDrop: ["CAP_MKNOD"],
      },
      Resources: {
        Limits: { NanoCPUs: S / 2, MemoryBytes: 64 * MIB },
        Reservations: { NanoCPUs: S / 10, MemoryBytes: 16 * MIB },
      },
      RestartPolicy: { Condition: "on-failure", Delay: 2 * S, MaxAttempts: 3, Window: 10 * S },
      Placement: {
        Constraints: ["node.role==worker"],
        Preferences: [{ Spread: { SpreadDescriptor: "node.labels.zone" } }],
        MaxReplicas: 2,
      },
      Networks: [{ Target: network, Aliases: ["full"] }],
      ForceUpdate: 0,
    },
    Mode: { Replicated: { Replicas: 2 } },
    UpdateConfig: {
      Parallelism: 1,
      Delay: S,
      FailureAction: "rollback",
      Monitor: 2 * S,
      MaxFailureRatio: 0.4,
      Order: "start-first",
    },
    RollbackConfig: {
      Parallelism: 2,
      Delay: 2 * S,
      FailureAction: "continue",
      Monitor: 3 * S,
      MaxFailureRatio: 0.1,
      Order: "stop-first",
    },
    EndpointSpec: {
      Mode: "vip",
      Ports: [{ Protocol: "tcp", TargetPort: 8080, PublishedPort: 18092, PublishMode: "host" }],
    },
  };
}

/** Waits until exactly `count` tasks of the service run; resolves with them, or fails saying what its tasks did. */
export async function runningTasks(
  docker: Docker,
  serviceId: string,
  count: number,
  timeoutMs = 30_000,
): Promise<Json[]> {
  const deadline = Date.now() + timeoutMs;
  let tasks: Json[];
  for (;;) {
    tasks = (await docker.listTasks({ filters: { service: [serviceId], "desired-state": ["running"] } })) as Json[];
    const running = tasks.filter((t) => (t["Status"] as Json)["State"] === "running");
    if (running.length === count) return running;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  tasks = (await docker.listTasks({ filters: { service: [serviceId] } })) as Json[];
  const states = tasks.map((t) => {
    const s = t["Status"] as Json;
    return `${String(s["State"])}: ${String(s["Message"])} ${String(s["Err"] ?? "")}`.trim();
  });
  throw new Error(`not ${count} running tasks of ${serviceId} after ${timeoutMs} ms: ${JSON.stringify(states)}`);
}

/** The frames of `GET /services/{id}/logs` with these options (not following). */
export async function logLines(service: Docker.Service, options: Json): Promise<LogFrame[]> {
  const body = (await service.logs(options as never)) as unknown;
  expect(Buffer.isBuffer(body), "a multiplexed stream, not JSON").toBe(true);
  return logFrames(body as Buffer);
}

/** The HTTP status of a dockerode call that fails (200 when it succeeds). */
export function statusOf(call: Promise<unknown>): Promise<number> {
  return call.then(
    () => 200,
    (e: { statusCode?: number }) => e.statusCode ?? 0,
  );
}

/** A request through dockerode's modem (for what dockerode has no call for), as a promise. */
export function dial(docker: Docker, options: Json & { path: string; method: string }): Promise<unknown> {
  return new Promise((resolve, reject) =>
    docker.modem.dial({ statusCodes: { 200: true, 201: true, 204: true }, ...options }, (err, data) =>
      err ? reject(err) : resolve(data),
    ),
  );
}
