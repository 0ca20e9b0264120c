// A ControlCaller for Docker API tests: the Control API's own handlers over a MemoryStore (their
// validation, version checks, unlock keys), without gRPC or Raft. GetInfo answers as a leader whose
// Raft members are given. Every call is recorded; a method not listed here fails the test.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  Cluster,
  ManualClock,
  Reachability,
  pki,
  silentLogger,
  type GetInfoResponse,
  type RaftMember,
} from "@shoal/shared";
import { newRootCa } from "../../src/ca/root-ca.js";
import { getCluster, listClusters, updateCluster } from "../../src/controlapi/clusters.js";
import { getNode, listNodes } from "../../src/controlapi/nodes.js";
import { getUnlockKey, rotateUnlockKey } from "../../src/controlapi/unlock-key.js";
import { secretHandlers } from "../../src/controlapi/secret-handlers.js";
import { networkHandlers } from "../../src/controlapi/network-handlers.js";
import { createService, getService, listServices } from "../../src/controlapi/services.js";
import { getTask, listTasks } from "../../src/controlapi/tasks.js";
import type { DockerApiContext } from "../../src/dockerapi/context.js";
import type { ControlCaller } from "../../src/dockerapi/control-calls.js";
import { dockerRoutes } from "../../src/dockerapi/docker-api-server.js";
import { MemoryStore } from "../../src/state/store/index.js";

export const CLUSTER_ID = "c1u5ter0000000000000000001";
export const NOW = Date.parse("2026-11-29T08:31:51Z");

export interface StoreControl extends ControlCaller {
  readonly calls: { method: string; request: unknown }[];
  /** The Raft members GetInfo reports (this manager first). */
  members: RaftMember[];
}

export function storeControl(store: MemoryStore): StoreControl {
  const handlers: Record<string, (request: never) => unknown> = {
    getInfo: (): GetInfoResponse => ({
      clusterId: CLUSTER_ID,
      nodeId: control.members[0]?.nodeId ?? "",
      leaderAddr: control.members[0]?.addr ?? "",
      isLeader: true,
      raft: {
        raftId: control.members[0]?.raftId ?? 0,
        leaderRaftId: control.members[0]?.raftId ?? 0,
        term: 2,
        commitIndex: 10,
        appliedIndex: 10,
        members: control.members.map((member, i) => ({
          member,
          leader: i === 0,
          reachability: i === 0 ? Reachability.REACHABLE : Reachability.UNREACHABLE,
          matchIndex: 10,
        })),
      },
    }),
    listClusters: () => listClusters(store),
    getCluster: (req) => getCluster(store, req),
    updateCluster: (req) => updateCluster(store, req, NOW),
    getUnlockKey: () => getUnlockKey(store),
    rotateUnlockKey: () => rotateUnlockKey(store),
    listNodes: (req) => listNodes(store, req),
    getNode: (req) => getNode(store, req),
    createService: (req) => createService(store, req),
    getService: (req) => getService(store, req),
    listServices: (req) => listServices(store, req),
    listTasks: (req) => listTasks(store, req),
    getTask: (req) => getTask(store, req),
    // The secret and config methods, unwrapped (no gRPC: the handler functions themselves).
    ...(secretHandlers(
      store,
      (_method, fn) => fn as never,
      (fn) => fn as never,
    ) as unknown as Record<string, (request: never) => unknown>),
    ...(networkHandlers(
      store,
      (_method, fn) => fn as never,
      (fn) => fn as never,
    ) as unknown as Record<string, (request: never) => unknown>),
  };
  const control: StoreControl = {
    calls: [],
    members: [],
    call: (async (method: string, request: never) => {
      control.calls.push({ method, request });
      const handler = handlers[method];
      if (!handler) throw new Error(`the test did not expect a ${method} call`);
      return handler(request);
    }) as ControlCaller["call"],
  };
  return control;
}

/** A store holding a cluster as a founding manager makes it: named "default", with its CA and tokens. */
export async function clusterStore(): Promise<MemoryStore> {
  const { rootCa, ca } = await newRootCa({ clusterId: CLUSTER_ID, now: NOW });
  const store = new MemoryStore();
  await store.update((tx) =>
    tx.clusters.create(
      Cluster.fromPartial({
        id: CLUSTER_ID,
        spec: { annotations: { name: "default" } },
        rootCa,
        rootJoinTokens: { worker: pki.newJoinToken(ca.digest), manager: pki.newJoinToken(ca.digest) },
      }),
    ),
  );
  return store;
}

/** The Docker API's routes over `control`, served on a loopback port. */
export async function serveRoutes(
  control: ControlCaller,
  extra: Partial<DockerApiContext> = {},
): Promise<{ base: string; close(): Promise<void> }> {
  const ctx: DockerApiContext = {
    control,
    logs: {
      subscribe: async function* () {
        // no lines
      },
    },
    nodeId: "m4nager00000000000000000001",
    advertise: "10.0.0.1:4242",
    clock: new ManualClock(NOW),
    logger: silentLogger(),
    ...extra,
  };
  const router = dockerRoutes(ctx, silentLogger());
  const server: Server = createServer((req, res) => void router.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A request and its answer, the body parsed when it is JSON. */
export async function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; contentType: string | null }> {
  const res = await fetch(base + path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
  });
  const text = await res.text();
  return {
    status: res.status,
    json: text === "" ? undefined : (JSON.parse(text) as unknown),
    contentType: res.headers.get("content-type"),
  };
}
