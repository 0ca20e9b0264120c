// The agent's image puller on the fake executor, with a manual clock: what it reports for a pull
// that works, fails, times out or is abandoned, how it batches progress, and its limit; and an
// inspection (inspect_only), which pulls nothing and reports the engine's JSON.
import { describe, expect, it } from "vitest";
import { ImagePull, ManualClock, RegistryAuth, durationFromMs, silentLogger, type ImagePullLine } from "@shoal/shared";
import { FakeExecutor, ImagePullError, ImagePuller, type ImagePullReport, type PullProgress } from "@shoal/agent";
import { FLUSH_MS } from "../../src/pulls/image-puller.js";

interface Sent {
  readonly lines: ImagePullLine[];
  readonly done: boolean;
  readonly error: string;
  readonly imageJson?: string;
}

class RecordingReport implements ImagePullReport {
  readonly sent: Sent[] = [];
  ended = false;
  private readonly closing = new AbortController();
  readonly closed = this.closing.signal;

  send(report: Sent): void {
    this.sent.push(report);
  }

  end(): void {
    this.ended = true;
  }

  /** The manager answers the stream: it no longer waits. */
  answer(): void {
    this.closing.abort(new Error("answered"));
  }

  get last(): Sent | undefined {
    return this.sent.at(-1);
  }
}

const bar = (id: string, current: number): PullProgress => ({
  status: "Downloading",
  id,
  progress: `[=> ] ${current}B/100B`,
  current,
  total: 100,
});
const plain = (status: string, id = ""): PullProgress => ({ status, id, progress: "", current: 0, total: 0 });

function setup(maxRunning?: number): { executor: FakeExecutor; clock: ManualClock; puller: ImagePuller } {
  const executor = new FakeExecutor();
  const clock = new ManualClock(0);
  const puller = new ImagePuller({
    executor,
    clock,
    logger: silentLogger(),
    ...(maxRunning !== undefined ? { maxRunning } : {}),
  });
  return { executor, clock, puller };
}

const pull = (image: string, extra: Partial<ImagePull> = {}): ImagePull =>
  ImagePull.fromPartial({ id: `p-${image}`, image, timeout: durationFromMs(60_000), ...extra });

/** Lets the fake pull's awaits run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("ImagePuller", () => {
  it("pulls with the credentials and platform asked for, and reports the lines and the outcome", async () => {
    const { executor, puller } = setup();
    const report = new RecordingReport();
    const auth = RegistryAuth.fromPartial({ username: "u", password: "p" });
    await puller.run(pull("app:1", { auth, platform: "linux/amd64" }), report, new AbortController().signal);
    expect(executor.images.pulls).toEqual([{ image: "app:1", auth, platform: "linux/amd64" }]);
    expect(report.sent).toHaveLength(1);
    expect(report.last).toMatchObject({ done: true, error: "" });
    expect(report.last!.lines.map((l) => l.status)).toEqual([
      "Pulling from app",
      "Pull complete",
      `Digest: sha256:${"f".repeat(64)}`,
      "Status: Downloaded newer image for app:1",
    ]);
    expect(report.ended).toBe(true);
    expect(puller.size).toBe(0);
  });

  it("sends lines every flush while the pull runs, a layer's progress bar only at its latest", async () => {
    const { executor, clock, puller } = setup();
    executor.images.script("big:1", {
      lines: [plain("Pulling fs layer", "l1"), bar("l1", 10), bar("l1", 40), bar("l2", 5), bar("l1", 70)],
      hang: true,
    });
    const report = new RecordingReport();
    const session = new AbortController();
    const running = puller.run(pull("big:1"), report, session.signal);
    for (let i = 0; i < 10; i++) await settle();
    expect(report.sent).toEqual([]);
    clock.advance(FLUSH_MS);
    expect(report.sent).toHaveLength(1);
    expect(report.sent[0]!.done).toBe(false);
    expect(report.sent[0]!.lines.map((l) => [l.id, l.status, l.current])).toEqual([
      ["l1", "Pulling fs layer", 0],
      ["l1", "Downloading", 70],
      ["l2", "Downloading", 5],
    ]);
    clock.advance(FLUSH_MS); // nothing new: nothing sent
    expect(report.sent).toHaveLength(1);
    session.abort();
    await running;
  });

  it("reports the registry's refusal as the node's error", async () => {
    const { executor, puller } = setup();
    executor.images.script("nosuch:1", { lines: [], error: new ImagePullError("nosuch:1", "manifest unknown") });
    const report = new RecordingReport();
    await puller.run(pull("nosuch:1"), report, new AbortController().signal);
    expect(report.sent).toEqual([{ lines: [], done: true, error: "pulling image nosuch:1: manifest unknown" }]);
  });

  it("gives up at the timeout the leader gave", async () => {
    const { executor, clock, puller } = setup();
    executor.images.script("slow:1", { lines: [], hang: true });
    const report = new RecordingReport();
    const running = puller.run(pull("slow:1", { timeout: durationFromMs(2000) }), report, new AbortController().signal);
    await settle();
    clock.advance(1999);
    await settle();
    expect(report.sent).toEqual([]);
    clock.advance(1);
    await running;
    expect(report.sent).toEqual([{ lines: [], done: true, error: "pulling image slow:1: timed out after 2 s" }]);
  });

  it("stops without a report when the session ends or the leader stops waiting", async () => {
    const { executor, puller } = setup();
    executor.images.script("slow:1", { lines: [plain("Pulling fs layer", "l1")], hang: true });
    const report = new RecordingReport();
    const session = new AbortController();
    const running = puller.run(pull("slow:1"), report, session.signal);
    await settle();
    session.abort();
    await running;
    expect(report.sent).toEqual([]);
    expect(report.ended).toBe(true);

    const second = new RecordingReport();
    const again = puller.run(pull("slow:1", { id: "p2" }), second, new AbortController().signal);
    await settle();
    second.answer();
    await again;
    expect(second.sent).toEqual([]);
    expect(puller.size).toBe(0);
  });

  it("refuses a pull over its limit at once, and runs a pull asked twice once", async () => {
    const { executor, puller } = setup(1);
    executor.images.script("slow:1", { lines: [], hang: true });
    const session = new AbortController();
    const first = new RecordingReport();
    const running = puller.run(pull("slow:1"), first, session.signal);
    const twice = new RecordingReport();
    await puller.run(pull("slow:1"), twice, session.signal);
    expect(twice.sent).toEqual([]);
    const over = new RecordingReport();
    await puller.run(pull("other:1"), over, session.signal);
    expect(over.sent).toEqual([
      {
        lines: [],
        done: true,
        error: "this node already runs 1 image pulls, its most at once; try again when one is done",
      },
    ]);
    expect(executor.images.pulls.map((p) => p.image)).toEqual(["slow:1"]);
    puller.stop();
    await running;
    const late = new RecordingReport();
    await puller.run(pull("late:1"), late, session.signal);
    expect(late.last?.error).toBe("the agent is stopping");
  });

  it("inspects without pulling: the engine's JSON when the host has the image, empty when not", async () => {
    const { executor, puller } = setup();
    executor.images.script("app:1", { inspect: { Id: "sha256:a1", RepoTags: ["app:1"] } });
    executor.images.present.add("app:1");
    const found = new RecordingReport();
    await puller.run(pull("app:1", { inspectOnly: true }), found, new AbortController().signal);
    expect(found.sent).toEqual([
      { lines: [], done: true, error: "", imageJson: '{"Id":"sha256:a1","RepoTags":["app:1"]}' },
    ]);
    expect(found.ended).toBe(true);
    const missing = new RecordingReport();
    await puller.run(pull("nope:1", { inspectOnly: true }), missing, new AbortController().signal);
    expect(missing.sent).toEqual([{ lines: [], done: true, error: "", imageJson: "" }]);
    expect(executor.images.pulls).toEqual([]);
  });
});
