// The Control API client of the CLI commands, with calls as promises and errors as ShoalErrors.
import * as grpc from "@grpc/grpc-js";
import { ControlClient, fromServiceError } from "@shoal/shared";

export const DEFAULT_MANAGER = "127.0.0.1:4242";

/** The manager address: --manager, else SHOAL_MANAGER, else the local default. */
export function managerAddress(flag: string | undefined): string {
  return flag ?? process.env["SHOAL_MANAGER"] ?? DEFAULT_MANAGER;
}

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (err: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

export class Control {
  private readonly client: ControlClient;

  constructor(
    readonly address: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.client = new ControlClient(address, grpc.credentials.createInsecure());
  }

  /** Calls one unary method, e.g. `control.call("listNodes", {...})`. */
  call<K extends keyof ControlClient>(
    method: K,
    request: ControlClient[K] extends Unary<infer Req, unknown> ? Req : never,
  ): Promise<ControlClient[K] extends Unary<never, infer Res> ? Res : never> {
    const fn = this.client[method] as unknown as Unary<unknown, unknown>;
    return new Promise((resolve, reject) => {
      fn.call(this.client, request, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err) reject(this.explain(err));
        else resolve(res as never);
      });
    });
  }

  close(): void {
    this.client.close();
  }

  private explain(err: grpc.ServiceError): Error {
    const shoal = fromServiceError(err);
    if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
      shoal.message = `cannot reach a manager at ${this.address} (${err.details}); is it running? (shoal up starts a local cluster)`;
    }
    return shoal;
  }
}
