// A Docker API handler's world in memory: a Control API that keeps one cluster (whose labels hold
// the networks) and one service, and records every call; and requests built without HTTP.
import { Cluster, ManualClock, Service, ServiceSpec, silentLogger } from "@shoal/shared";
import type { DockerApiContext } from "../../src/dockerapi/context.js";
import type { ControlCaller } from "../../src/dockerapi/control-calls.js";
import type { DockerRequest } from "../../src/dockerapi/router.js";

export interface FakeDocker {
  readonly ctx: DockerApiContext;
  /** Every Control call, in order. */
  readonly calls: { method: string; request: unknown }[];
  /** The services listServices answers with (change at will). */
  readonly services: Service[];
  /** The service getService, createService and updateService answer with (change at will). */
  readonly service: Service;
  /** The requests of the calls named `method`. */
  requests<T = Record<string, unknown>>(method: string): T[];
}

export function fakeDocker(clusterLabels: Record<string, string> = {}): FakeDocker {
  const calls: { method: string; request: unknown }[] = [];
  let cluster = Cluster.fromPartial({
    id: "cluster1",
    meta: { version: { index: 1 } },
    spec: { annotations: { name: "default", labels: clusterLabels } },
  });
  const service = Service.fromPartial({
    id: "svc0000000000000000000001",
    meta: { version: { index: 7 } },
    spec: ServiceSpec.fromPartial({ annotations: { name: "web" }, taskTemplate: { container: { image: "x:1" } } }),
  });
  const services: Service[] = [];
  const control: ControlCaller = {
    call: (async (method: string, request: unknown) => {
      calls.push({ method, request });
      switch (method) {
        case "listClusters":
          return { clusters: [cluster] };
        case "updateCluster": {
          const spec = (request as { spec: Cluster["spec"] }).spec;
          cluster = { ...cluster, spec, meta: { ...cluster.meta!, version: { index: 2 } } };
          return { cluster };
        }
        case "listServices":
          return { services };
        case "createService":
        case "updateService":
        case "getService":
          return { service };
        default:
          return {};
      }
    }) as ControlCaller["call"],
  };
  const ctx: DockerApiContext = {
    control,
    logs: {
      subscribe: async function* () {
        // no lines
      },
    },
    nodeId: "n1",
    advertise: "127.0.0.1:1",
    clock: new ManualClock(0),
    logger: silentLogger(),
  };
  return {
    ctx,
    calls,
    services,
    service,
    requests: <T>(method: string) => calls.filter((c) => c.method === method).map((c) => c.request as T),
  };
}

/** A request as the router hands it to a handler; `body` is the parsed JSON. */
export function dockerRequest(
  options: { params?: Record<string, string>; query?: string; body?: unknown } = {},
): DockerRequest {
  return {
    method: "POST",
    path: "/",
    params: options.params ?? {},
    query: new URLSearchParams(options.query ?? ""),
    json: () => Promise.resolve(options.body ?? {}),
    raw: undefined as unknown as DockerRequest["raw"],
    res: undefined as unknown as DockerRequest["res"],
    signal: new AbortController().signal,
  };
}
