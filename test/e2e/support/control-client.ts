// A Control API client for tests: one call to one manager, as a promise, over mutual TLS with the
// test's client certificate: the admin certificate the founding manager of the test's cluster
// wrote to DATA_DIR/client/ (ShoalProcess names it when it starts one; in-process tests call
// useClientCertDir). SHOAL_TLS_DIR is set to it too, so that CLI commands the test runs use it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import {
  ControlClient,
  MANAGER_CHANNEL_OPTIONS,
  TlsMaterial,
  channelCredentials,
  listAllNodes,
  listAllTasks,
  unaryCall,
  type Node,
  type NodeFilters,
  type Task,
  type TaskFilters,
  type RequestOf as UnaryRequest,
  type ResponseOf as UnaryResponse,
  type UnaryMethodName,
} from "@shoal/shared";

let clientCertDir: string | undefined = process.env["SHOAL_TLS_DIR"];

/** The client certificate directory tests call managers with from now on (DIR/ca.pem, cert.pem, key.pem). */
export function useClientCertDir(dir: string): void {
  clientCertDir = dir;
  process.env["SHOAL_TLS_DIR"] = dir;
}

/** The directory set by useClientCertDir (or SHOAL_TLS_DIR). */
export function testClientCertDir(): string {
  if (clientCertDir === undefined) throw new Error("no client certificate directory: start a founding manager first");
  return clientCertDir;
}

/** The test's client credentials (read now: they exist once the founding manager has started). */
export function testClientCredentials(): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  const dir = testClientCertDir();
  const read = (file: string): string => readFileSync(join(dir, file), "utf8");
  const material = new TlsMaterial({ caPem: read("ca.pem"), certChainPem: read("cert.pem"), keyPem: read("key.pem") });
  return { credentials: channelCredentials(material), options: MANAGER_CHANNEL_OPTIONS };
}

/** A unary Control method, e.g. "createService". */
export type ControlMethod = UnaryMethodName<ControlClient>;
/** The request and response of a Control method, e.g. RequestOf<"createService">. */
export type RequestOf<K extends ControlMethod> = UnaryRequest<ControlClient, K>;
export type ResponseOf<K extends ControlMethod> = UnaryResponse<ControlClient, K>;

export class TestControl {
  private readonly clients = new Map<string, ControlClient>();

  call<K extends ControlMethod>(
    addr: string,
    method: K,
    request: RequestOf<K>,
    timeoutMs = 5000,
  ): Promise<ResponseOf<K>> {
    return unaryCall(this.client(addr), method, request, { timeoutMs });
  }

  /**
   * Every task matching `filters` as `addr` lists them, page by page, by service, slot and node;
   * `timeoutMs` bounds each page.
   */
  listTasks(addr: string, filters: TaskFilters | undefined, timeoutMs = 5000): Promise<Task[]> {
    return listAllTasks((req) => this.call(addr, "listTasks", req, timeoutMs), filters);
  }

  /** Every node matching `filters` as `addr` lists them, page by page, by hostname. */
  listNodes(addr: string, filters?: NodeFilters, timeoutMs = 5000): Promise<Node[]> {
    return listAllNodes((req) => this.call(addr, "listNodes", req, timeoutMs), filters);
  }

  /** The client for `addr`, made on first use (e.g. to send raw bytes with makeUnaryRequest). */
  client(addr: string): ControlClient {
    const dir = testClientCertDir();
    let client = this.clients.get(`${dir} ${addr}`);
    if (!client) {
      const { credentials, options } = testClientCredentials();
      client = new ControlClient(addr, credentials, options);
      this.clients.set(`${dir} ${addr}`, client);
    }
    return client;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
