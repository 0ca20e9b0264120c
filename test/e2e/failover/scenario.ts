// One scenario: a writer keeps writing while the fault runs, then the checker looks at what the
// cluster holds once it has settled.
import { FailoverClient } from "./failover-client.js";
import type { FailoverCluster } from "./cluster.js";
import { History } from "./history.js";
import { settle, writeViolations } from "./observe.js";
import { Writer } from "./writer.js";
import { waitUntil } from "../support/wait.js";

export interface ScenarioResult {
  readonly history: History;
  /** What the checker found wrong; empty when all held. */
  readonly violations: string[];
  readonly ms: number;
}

export interface ScenarioOptions {
  /** The writer's services are named `<prefix>-<n>`. */
  readonly prefix: string;
  /** Time to settle after the fault (default 60 s). */
  readonly settleMs?: number;
  readonly seed?: number;
}

/** Waits until the writer has had `more` writes acknowledged beyond what it had. */
export async function writesProgress(writer: Writer, more = 3, timeoutMs = 30_000): Promise<void> {
  const from = writer.acked;
  await waitUntil(`${more} more acknowledged writes`, () => writer.acked >= from + more, timeoutMs);
}

export function newWriter(cluster: FailoverCluster, history: History, prefix: string, seed = 1): Writer {
  const client = new FailoverClient({ control: cluster.control, addresses: () => cluster.addrs });
  return new Writer({ client, history, image: cluster.baseImage, prefix, seed });
}

export async function runScenario(
  cluster: FailoverCluster,
  options: ScenarioOptions,
  fault: (writer: Writer) => Promise<void>,
): Promise<ScenarioResult> {
  const started = Date.now();
  const history = new History();
  const writer = newWriter(cluster, history, options.prefix, options.seed);
  writer.start();
  try {
    await writesProgress(writer);
    await fault(writer);
    await writesProgress(writer);
  } finally {
    await writer.stop();
  }
  const violations = await settle(cluster, (o) => writeViolations(history, o, options.prefix), options.settleMs);
  return { history, violations, ms: Date.now() - started };
}
