// The client that keeps writing while a scenario runs: it creates, scales and removes services
// through the Control API (failing over across managers) and records every write with what the
// cluster answered. Each service gets a name of its own and sees its writes one at a time.
import { ServiceSpec, type Service } from "@shoal/shared";
import type { CallResult, FailoverClient, Outcome } from "./failover-client.js";
import type { History, WriteRecord } from "./history.js";

export interface WriterOptions {
  readonly client: FailoverClient;
  readonly history: History;
  /** The image of the services' tasks. */
  readonly image: string;
  /** Names are `<prefix>-<n>`. */
  readonly prefix: string;
  /** Pause between two writes (default 250 ms). */
  readonly pauseMs?: number;
  /** At most this many services of the writer exist at once (default 6). */
  readonly maxServices?: number;
  /** Seed of the choices, so that a run can be replayed. */
  readonly seed?: number;
}

export function serviceSpec(name: string, image: string, replicas: number): ServiceSpec {
  return ServiceSpec.fromPartial({
    annotations: { name },
    taskTemplate: {
      container: { image, args: ["sleep", "3600"], stopGracePeriod: { seconds: 1, nanos: 0 } },
    },
    mode: { $case: "replicated", value: { replicas } },
  });
}

export function replicasOf(service: Service | undefined): number | undefined {
  const mode = service?.spec?.mode;
  return mode?.$case === "replicated" ? mode.value.replicas : undefined;
}

/** A small deterministic random source (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Writer {
  private readonly random: () => number;
  /** Names the writer believes may exist (created, not surely removed). */
  private readonly live: string[] = [];
  /** The service as the last acknowledged write returned it: its version for the next update. */
  private readonly known = new Map<string, Service>();
  private next = 0;
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: WriterOptions) {
    this.random = seeded(options.seed ?? 1);
  }

  start(): void {
    this.stopping = false;
    this.loop ??= this.run();
  }

  /** Stops after the write in flight; idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    this.loop = undefined;
  }

  /** How many writes were acknowledged so far. */
  get acked(): number {
    return this.options.history.records.filter((r) => r.outcome === "acked").length;
  }

  private async run(): Promise<void> {
    const pause = this.options.pauseMs ?? 250;
    while (!this.stopping) {
      await this.writeOnce();
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  private pick(): string | undefined {
    return this.live[Math.floor(this.random() * this.live.length)];
  }

  private replicas(except?: number): number {
    for (;;) {
      const r = Math.floor(this.random() * 3);
      if (r !== except) return r;
    }
  }

  async writeOnce(): Promise<void> {
    const max = this.options.maxServices ?? 6;
    const roll = this.random();
    if (this.live.length < 2 || (roll < 0.3 && this.live.length < max)) await this.create();
    else if (roll < 0.75) await this.scale(this.pick()!);
    else await this.remove(this.pick()!);
  }

  private async create(): Promise<void> {
    const name = `${this.options.prefix}-${this.next++}`;
    const replicas = this.replicas();
    const spec = serviceSpec(name, this.options.image, replicas);
    await this.record({ kind: "create", service: name, replicas }, () =>
      this.options.client.call("createService", { spec }),
    );
    this.live.push(name);
  }

  private async scale(name: string): Promise<void> {
    let service = this.known.get(name);
    if (!service) {
      const read = await this.options.client.call("getService", { serviceId: name });
      if (read.outcome !== "acked" || !read.value.service) return; // nothing written
      service = read.value.service;
    }
    const { id, meta } = service;
    const replicas = this.replicas(replicasOf(service));
    const spec = serviceSpec(name, this.options.image, replicas);
    await this.record({ kind: "scale", service: name, replicas }, () =>
      this.options.client.call("updateService", {
        serviceId: id,
        serviceVersion: meta?.version,
        spec,
        rollback: false,
      }),
    );
  }

  private async remove(name: string): Promise<void> {
    const outcome = await this.record({ kind: "remove", service: name }, () =>
      this.options.client.call("removeService", { serviceId: name }),
    );
    if (outcome === "acked") this.live.splice(this.live.indexOf(name), 1);
  }

  private async record(
    write: Pick<WriteRecord, "kind" | "service" | "replicas">,
    call: () => Promise<CallResult<{ service?: Service | undefined }>>,
  ): Promise<Outcome> {
    const startedAt = Date.now();
    const result = await call();
    if (result.outcome === "acked" && result.value.service) this.known.set(write.service, result.value.service);
    else this.known.delete(write.service);
    this.options.history.add({
      ...write,
      outcome: result.outcome,
      startedAt,
      endedAt: Date.now(),
      ...(result.outcome === "acked" ? { manager: result.manager } : { error: result.error.message }),
    });
    return result.outcome;
  }
}
