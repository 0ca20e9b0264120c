// The Docker API's way into the cluster: the Control API of its own manager, over gRPC on the
// loopback, exactly as the shoal CLI calls it. Every rule (validation, versions, forwarding
// of writes to the leader, linearizable reads) is therefore the Control API's, implemented once.
import * as grpc from "@grpc/grpc-js";
import {
  ControlClient,
  MANAGER_CHANNEL_OPTIONS,
  channelCredentials,
  fromServiceError,
  type TlsMaterial,
} from "@shoal/shared";

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (err: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

export type ControlRequest<K extends keyof ControlClient> =
  ControlClient[K] extends Unary<infer Req, unknown> ? Req : never;
export type ControlResponse<K extends keyof ControlClient> =
  ControlClient[K] extends Unary<never, infer Res> ? Res : never;

/** What the handlers need: one Control call as a promise (errors as ShoalErrors). */
export interface ControlCaller {
  call<K extends keyof ControlClient>(method: K, request: ControlRequest<K>): Promise<ControlResponse<K>>;
}

export class LoopbackControl implements ControlCaller {
  private readonly client: ControlClient;

  constructor(
    readonly address: string,
    material: TlsMaterial,
    private readonly timeoutMs = 20_000,
  ) {
    this.client = new ControlClient(address, channelCredentials(material), {
      ...MANAGER_CHANNEL_OPTIONS,
      "grpc.max_receive_message_length": 512 * 1024 * 1024,
    });
  }

  call<K extends keyof ControlClient>(method: K, request: ControlRequest<K>): Promise<ControlResponse<K>> {
    const fn = this.client[method] as unknown as Unary<unknown, unknown>;
    return new Promise((resolve, reject) =>
      fn.call(this.client, request, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) =>
        err ? reject(fromServiceError(err)) : resolve(res as ControlResponse<K>),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}
