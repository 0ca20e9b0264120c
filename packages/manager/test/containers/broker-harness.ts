// A ContainerBroker served over a real gRPC socket (no TLS) for its tests: the caller's identity
// comes from a test header (set by an interceptor, as the auth interceptor does from the
// certificate), the agents' sessions are a stand-in the test opens and ends, and a fake agent
// listens and serves calls with a real ContainersClient.
import * as grpc from "@grpc/grpc-js";
import {
  ContainersClient,
  ContainersService,
  ManualClock,
  Service,
  Task,
  TaskState,
  silentLogger,
  type AuditRecord,
  type ContainerCallRequest,
  type ContainerCallResponse,
  type ListenContainerCallsResponse,
  type ServeContainerCallRequest,
  type ServeContainerCallResponse,
  type TlsMaterial,
  type pki,
} from "@shoal/shared";
import { setCaller } from "../../src/auth/caller.js";
import { ContainerBroker, type AgentSessions } from "../../src/containers/container-broker.js";
import { MemoryStore } from "../../src/state/store/index.js";

const ROLE_HEADER = "x-test-role";
const NAME_HEADER = "x-test-name";

export type Role = pki.CertRole;

export class FakeSessions implements AgentSessions {
  readonly open = new Map<string, string>();
  private readonly listeners = new Set<(nodeId: string, sessionId: string) => void>();

  isOpenSession(nodeId: string, sessionId: string): boolean {
    return this.open.get(nodeId) === sessionId;
  }

  hasSession(nodeId: string): boolean {
    return this.open.has(nodeId);
  }

  onSessionEnd(fn: (nodeId: string, sessionId: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  end(nodeId: string): void {
    const id = this.open.get(nodeId);
    this.open.delete(nodeId);
    if (id !== undefined) for (const fn of this.listeners) fn(nodeId, id);
  }
}

/** Sets the caller from the test headers, as the auth interceptor does from a certificate. */
const testIdentity: grpc.ServerInterceptor = (_descriptor, call) =>
  new grpc.ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMetadata: (metadata, proceed) => {
          const role = metadata.get(ROLE_HEADER)[0];
          if (role !== undefined) {
            const now = new Date(0);
            setCaller(metadata, {
              nodeId: String(metadata.get(NAME_HEADER)[0] ?? ""),
              role: String(role) as Role,
              clusterId: "c",
              serialNumber: "01",
              notBefore: now,
              notAfter: now,
              issuerKeyId: undefined,
            });
          }
          proceed(metadata);
        },
      }),
  });

export function as(role: Role, name: string): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set(ROLE_HEADER, role);
  m.set(NAME_HEADER, name);
  return m;
}

/** A service "web" with task t1 (web.1) on node-1, its container c0ffee. */
export async function seed(store: MemoryStore): Promise<void> {
  await store.update((tx) => {
    tx.services.create(Service.fromPartial({ id: "svc", spec: { annotations: { name: "web" } } }));
    tx.tasks.create(
      Task.fromPartial({
        id: "t1",
        serviceId: "svc",
        serviceAnnotations: { name: "web" },
        slot: 1,
        nodeId: "node-1",
        desiredState: TaskState.RUNNING,
        status: { state: TaskState.RUNNING, containerStatus: { containerId: "c0ffee", pid: 1, exitCode: 0 } },
      }),
    );
  });
}

export class BrokerHarness {
  readonly clock = new ManualClock(1_000_000);
  readonly store = new MemoryStore();
  readonly sessions = new FakeSessions();
  readonly audits: AuditRecord[] = [];
  readonly broker: ContainerBroker;
  private readonly server = new grpc.Server({ interceptors: [testIdentity] });
  private client: ContainersClient | undefined;

  constructor() {
    this.broker = new ContainerBroker({
      store: this.store,
      sessions: this.sessions,
      logger: silentLogger(),
      clock: this.clock,
      material: {} as TlsMaterial, // only to forward from a follower
      isLeader: () => true,
      leaderAddr: () => undefined,
    });
    this.server.addService(ContainersService, this.broker.handlers());
    this.store.onAudit((_index, records) => this.audits.push(...records));
  }

  async start(): Promise<void> {
    await seed(this.store);
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.client = new ContainersClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  get containers(): ContainersClient {
    return this.client!;
  }

  /** Opens a client call as `role`/`name` with its first message. */
  call(
    open: Partial<ContainerCallRequest> & Pick<ContainerCallRequest, "input">,
    role: Role = "client",
    name = "admin",
  ) {
    const call = this.containers.containerCall(as(role, name));
    call.write(open);
    return record<ContainerCallRequest, ContainerCallResponse>(call);
  }

  /** The agent of `nodeId` listens on session `sessionId`: the calls handed to it, as they come. */
  listen(nodeId = "node-1", sessionId = "s1") {
    this.sessions.open.set(nodeId, sessionId);
    const call = this.containers.listenContainerCalls({ nodeId, sessionId }, as("worker", nodeId));
    return record<never, ListenContainerCallsResponse>(call);
  }

  /** The agent takes call `callId`. */
  serve(callId: string, nodeId = "node-1") {
    const call = this.containers.serveContainerCall(as("worker", nodeId));
    call.write({ callId, output: undefined });
    return record<ServeContainerCallRequest, ServeContainerCallResponse>(call);
  }

  stop(): void {
    this.broker.close();
    this.client?.close();
    this.server.forceShutdown();
    this.store.close();
  }
}

export interface Recorded<Req, Res> {
  readonly call: grpc.ClientDuplexStream<Req, Res> | grpc.ClientReadableStream<Res>;
  readonly received: Res[];
  /** Settles with the call's status (OK or not). */
  readonly status: Promise<grpc.StatusObject>;
}

function record<Req, Res>(
  call: grpc.ClientDuplexStream<Req, Res> | grpc.ClientReadableStream<Res>,
): Recorded<Req, Res> {
  const received: Res[] = [];
  call.on("data", (m: Res) => received.push(m));
  call.on("error", () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
  return { call, received, status };
}
