// Samples managers' Prometheus metrics (--metrics-addr) for benchmarks: the longest event-loop
// delay each manager's loop saw (prom-client's nodejs_eventloop_lag_max_seconds, the maximum since
// the previous scrape), and how the leader-change and heartbeat-failure counters grew since the
// first sample.
import { request } from "node:http";

function scrape(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${address}/metrics`, { timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error(`metrics of ${address}: no answer in 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** The value of the first sample of `name` (any labels) in Prometheus text, or undefined. */
export function metricValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface ManagerMetricsSummary {
  /** The longest event-loop delay seen, per manager, in ms. */
  readonly eventLoopMaxMs: number[];
  /** Leader changes each manager saw since the first sample. */
  readonly leaderChanges: number[];
  /** Nodes marked down for missed heartbeats since the first sample (the most any manager counted). */
  readonly heartbeatFailures: number;
  /** Scrapes that failed (a manager too busy to answer within 5 s counts here). */
  readonly failedScrapes: number;
}

export class ManagerMetricsSampler {
  private readonly lagMax: number[];
  private readonly first: ({ leaders: number; heartbeats: number } | undefined)[];
  private readonly last: ({ leaders: number; heartbeats: number } | undefined)[];
  private failed = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;

  constructor(private readonly addresses: readonly string[]) {
    this.lagMax = addresses.map(() => 0);
    this.first = addresses.map(() => undefined);
    this.last = addresses.map(() => undefined);
  }

  /** Samples every `everyMs` until stop(). */
  start(everyMs = 1000): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), everyMs).unref();
  }

  async sample(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      await Promise.all(
        this.addresses.map(async (address, i) => {
          const text = await scrape(address).catch(() => undefined);
          if (text === undefined) {
            this.failed++;
            return;
          }
          const lag = metricValue(text, "shoal_manager_nodejs_eventloop_lag_max_seconds");
          if (lag !== undefined) this.lagMax[i] = Math.max(this.lagMax[i]!, lag * 1000);
          const counters = {
            leaders: metricValue(text, "shoal_raft_leader_changes_total") ?? 0,
            heartbeats: metricValue(text, "shoal_dispatcher_heartbeat_failures_total") ?? 0,
          };
          this.first[i] ??= counters;
          this.last[i] = counters;
        }),
      );
    } finally {
      this.inFlight = false;
    }
  }

  async stop(): Promise<ManagerMetricsSummary> {
    clearInterval(this.timer);
    await this.sample();
    const grew = (key: "leaders" | "heartbeats"): number[] =>
      this.addresses.map((_, i) => (this.last[i]?.[key] ?? 0) - (this.first[i]?.[key] ?? 0));
    return {
      eventLoopMaxMs: this.lagMax.map((ms) => Math.round(ms)),
      leaderChanges: grew("leaders"),
      heartbeatFailures: Math.max(...grew("heartbeats")),
      failedScrapes: this.failed,
    };
  }
}
