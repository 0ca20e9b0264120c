// The Docker API's way into the cluster: the Control API of its own manager, over gRPC on the
// loopback, exactly as the shoal CLI calls it. Every rule (validation, versions, forwarding
// of writes to the leader, linearizable reads) is therefore the Control API's, implemented once.
import {
  ControlClient,
  MANAGER_CHANNEL_OPTIONS,
  channelCredentials,
  listAllNodes,
  listAllTasks,
  serverStream,
  unaryCall,
  type Node,
  type NodeFilters,
  type PullImageRequest,
  type PullImageResponse,
  type RequestOf,
  type ResponseOf,
  type Task,
  type TaskFilters,
  type TlsMaterial,
  type UnaryMethodName,
} from "@shoal/shared";

/** A unary Control method, e.g. "listServices". */
export type ControlMethod = UnaryMethodName<ControlClient>;
export type ControlRequest<K extends ControlMethod> = RequestOf<ControlClient, K>;
export type ControlResponse<K extends ControlMethod> = ResponseOf<ControlClient, K>;

/** What the handlers need: one Control call as a promise (errors as ShoalErrors). */
export interface ControlCaller {
  call<K extends ControlMethod>(method: K, request: ControlRequest<K>): Promise<ControlResponse<K>>;
}

/** Every task matching `filters`, read page by page, by service, slot and node (see listAllTasks). */
export function allTasks(control: ControlCaller, filters: TaskFilters | undefined): Promise<Task[]> {
  return listAllTasks((req) => control.call("listTasks", req), filters);
}

/** Every node matching `filters`, read page by page, by hostname. */
export function allNodes(control: ControlCaller, filters?: NodeFilters): Promise<Node[]> {
  return listAllNodes((req) => control.call("listNodes", req), filters);
}

/** PullImage as its messages (errors as ShoalErrors); cancelled when `signal` aborts. */
export interface ImagePullCaller {
  pullImage(request: PullImageRequest, signal: AbortSignal): AsyncIterable<PullImageResponse>;
}

export class LoopbackControl implements ControlCaller, ImagePullCaller {
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

  call<K extends ControlMethod>(method: K, request: ControlRequest<K>): Promise<ControlResponse<K>> {
    return unaryCall(this.client, method, request, { timeoutMs: this.timeoutMs });
  }

  pullImage(request: PullImageRequest, signal: AbortSignal): AsyncIterable<PullImageResponse> {
    return serverStream(this.client.pullImage(request), signal);
  }

  close(): void {
    this.client.close();
  }
}
