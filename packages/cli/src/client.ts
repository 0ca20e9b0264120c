// The Control API client of the CLI commands: calls as promises, errors as ShoalErrors, and
// failover across the managers it is given (--manager A,B,C or SHOAL_MANAGER).
import * as grpc from "@grpc/grpc-js";
import {
  ControlClient,
  ErrorCode,
  InvalidArgumentError,
  ShoalError,
  fromServiceError,
  serverStream,
  unaryCall,
  type PullImageRequest,
  type PullImageResponse,
  type RequestOf,
  type ResponseOf,
  type UnaryMethodName,
} from "@shoal/shared";
import { clientTls, type ClientTls } from "./tls.js";

export const DEFAULT_MANAGER = "127.0.0.1:4242";
export const MANAGER_HELP = "managers to ask, HOST:PORT[,HOST:PORT...] (default: $SHOAL_MANAGER or 127.0.0.1:4242)";
const ADDRESS = /^(\[[0-9a-fA-F:]+\]|[^:\s,]+):(\d{1,5})$/;

/** The manager addresses: --manager, else SHOAL_MANAGER, else the local default. */
export function managerAddresses(flag: string | undefined): string[] {
  const value = flag ?? process.env["SHOAL_MANAGER"] ?? DEFAULT_MANAGER;
  const source = flag !== undefined ? "--manager" : process.env["SHOAL_MANAGER"] ? "SHOAL_MANAGER" : "default";
  const addrs = value
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  for (const a of addrs) {
    if (!ADDRESS.test(a) || Number(ADDRESS.exec(a)![2]) > 65535) {
      throw new InvalidArgumentError(`"${a}" is not a HOST:PORT address`, { field: source });
    }
  }
  if (addrs.length === 0) throw new InvalidArgumentError("no manager address given", { field: source });
  return addrs;
}

/** A Control method called as a promise, e.g. "listNodes". */
type Method = UnaryMethodName<ControlClient>;

/** A manager that could not be reached (the call was never answered): the next one is asked. */
class Unreachable extends ShoalError {
  constructor(err: grpc.ServiceError) {
    super(ErrorCode.Unavailable, err.details, { cause: err });
  }
}

export class Control {
  private readonly addresses: string[];
  private readonly clients = new Map<string, ControlClient>();
  private preferred = 0;
  private tls: ClientTls | undefined;

  /** `tls`: the client certificate; default --tls-dir / SHOAL_TLS_DIR, read at the first call. */
  constructor(
    addresses: string | readonly string[],
    private readonly timeoutMs = 10_000,
    tls?: ClientTls,
  ) {
    this.addresses = typeof addresses === "string" ? [addresses] : [...addresses];
    this.tls = tls;
  }

  get address(): string {
    return this.addresses[this.preferred]!;
  }

  private client(addr: string, tls: ClientTls): ControlClient {
    let c = this.clients.get(addr);
    if (!c) {
      // Lists of many tasks exceed gRPC's default 4 MB per message.
      c = new ControlClient(addr, tls.credentials, {
        ...tls.options,
        "grpc.max_receive_message_length": 512 * 1024 * 1024,
      });
      this.clients.set(addr, c);
    }
    return c;
  }

  /**
   * Calls one unary method, e.g. `control.call("listNodes", {...})`, on the first manager that
   * answers. A manager that cannot be reached is skipped; any other error is the answer.
   */
  async call<K extends Method>(method: K, request: RequestOf<ControlClient, K>): Promise<ResponseOf<ControlClient, K>> {
    this.tls ??= await clientTls();
    const failures: string[] = [];
    for (let i = 0; i < this.addresses.length; i++) {
      const index = (this.preferred + i) % this.addresses.length;
      const addr = this.addresses[index]!;
      try {
        const res = await unaryCall(this.client(addr, this.tls), method, request, {
          timeoutMs: this.timeoutMs,
          toError: (err) => (err.code === grpc.status.UNAVAILABLE ? new Unreachable(err) : fromServiceError(err)),
        });
        this.preferred = index;
        return res;
      } catch (err: unknown) {
        if (!(err instanceof Unreachable)) throw fromServiceError(err);
        failures.push(`${addr}: ${err.message}`);
      }
    }
    throw this.unreachable(failures);
  }

  /**
   * PullImage (a server stream) as its messages, from the first manager that answers; a manager
   * that cannot be reached before its first message is skipped. Cancelled when `signal` aborts.
   */
  async *pullImage(request: PullImageRequest, signal: AbortSignal): AsyncIterable<PullImageResponse> {
    this.tls ??= await clientTls();
    const failures: string[] = [];
    for (let i = 0; i < this.addresses.length; i++) {
      const index = (this.preferred + i) % this.addresses.length;
      const addr = this.addresses[index]!;
      let received = false;
      try {
        for await (const message of serverStream(this.client(addr, this.tls).pullImage(request), signal)) {
          received = true;
          yield message;
        }
        if (signal.aborted) return;
        this.preferred = index;
        return;
      } catch (err: unknown) {
        // Unreachable before its first message: try the next manager.
        const cause = (err as { cause?: Partial<grpc.ServiceError> }).cause;
        if (received || cause?.code !== grpc.status.UNAVAILABLE) throw err;
        failures.push(`${addr}: ${(err as ShoalError).message}`);
      }
    }
    throw this.unreachable(failures);
  }

  private unreachable(failures: readonly string[]): ShoalError {
    return new ShoalError(
      ErrorCode.Unavailable,
      `cannot reach a manager at ${this.addresses.join(", ")} (${failures.join("; ")}); is it running? (shoal up starts a local cluster)`,
    );
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** Runs `fn` with a Control client for the managers of --manager (or SHOAL_MANAGER), then closes it. */
export async function withControl<T>(manager: string | undefined, fn: (control: Control) => Promise<T>): Promise<T> {
  const control = new Control(managerAddresses(manager));
  try {
    return await fn(control);
  } finally {
    control.close();
  }
}
