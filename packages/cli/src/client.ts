// The Control API client of the CLI commands: calls as promises, errors as ShoalErrors, and
// failover across the managers it is given (--manager A,B,C or SHOAL_MANAGER).
import * as grpc from "@grpc/grpc-js";
import { ControlClient, ErrorCode, InvalidArgumentError, ShoalError, fromServiceError } from "@shoal/shared";
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

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (err: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

type RequestOf<K extends keyof ControlClient> = ControlClient[K] extends Unary<infer Req, unknown> ? Req : never;
type ResponseOf<K extends keyof ControlClient> = ControlClient[K] extends Unary<never, infer Res> ? Res : never;

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
  async call<K extends keyof ControlClient>(method: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
    this.tls ??= await clientTls();
    const failures: string[] = [];
    for (let i = 0; i < this.addresses.length; i++) {
      const index = (this.preferred + i) % this.addresses.length;
      const addr = this.addresses[index]!;
      try {
        const res = await this.callOne<K>(addr, method, request);
        this.preferred = index;
        return res;
      } catch (err: unknown) {
        const e = err as grpc.ServiceError;
        if (e.code !== grpc.status.UNAVAILABLE) throw fromServiceError(err);
        failures.push(`${addr}: ${e.details}`);
      }
    }
    throw new ShoalError(
      ErrorCode.Unavailable,
      `cannot reach a manager at ${this.addresses.join(", ")} (${failures.join("; ")}); is it running? (shoal up starts a local cluster)`,
    );
  }

  private callOne<K extends keyof ControlClient>(
    addr: string,
    method: K,
    request: RequestOf<K>,
  ): Promise<ResponseOf<K>> {
    const client = this.client(addr, this.tls!);
    const fn = client[method] as unknown as Unary<unknown, unknown>;
    return new Promise((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err) reject(err);
        else resolve(res as ResponseOf<K>);
      });
    });
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
