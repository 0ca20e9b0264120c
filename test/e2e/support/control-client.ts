// A Control API client for tests: one call to one manager, as a promise.
import * as grpc from "@grpc/grpc-js";
import { ControlClient, fromServiceError } from "@shoal/shared";

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (err: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** The request and response of a Control method, e.g. RequestOf<"createService">. */
export type RequestOf<K extends keyof ControlClient> = ControlClient[K] extends Unary<infer Req, unknown> ? Req : never;
export type ResponseOf<K extends keyof ControlClient> = ControlClient[K] extends Unary<never, infer Res> ? Res : never;

export class TestControl {
  private readonly clients = new Map<string, ControlClient>();

  call<K extends keyof ControlClient>(
    addr: string,
    method: K,
    request: ControlClient[K] extends Unary<infer Req, unknown> ? Req : never,
    timeoutMs = 5000,
  ): Promise<ControlClient[K] extends Unary<never, infer Res> ? Res : never> {
    const c = this.client(addr);
    const fn = c[method] as unknown as Unary<unknown, unknown>;
    return new Promise((resolve, reject) =>
      fn.call(c, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(fromServiceError(err)) : resolve(res as never),
      ),
    );
  }

  /** The client for `addr`, made on first use (e.g. to send raw bytes with makeUnaryRequest). */
  client(addr: string): ControlClient {
    let client = this.clients.get(addr);
    if (!client) {
      client = new ControlClient(addr, grpc.credentials.createInsecure());
      this.clients.set(addr, client);
    }
    return client;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
