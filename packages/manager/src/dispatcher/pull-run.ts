// One PullImage call on the leader: the nodes it still waits for, and the messages for its caller,
// read as an async iterable. The first message lists the nodes asked; then come each node's lines
// and its outcome (done). Lines wait in a bounded queue: when MAX_QUEUED_LINES messages of lines
// wait for a slow caller, newer ones are dropped (and counted); a node's outcome is never dropped
// (there is one per node). The run ends once every node has answered, or by end(). For an
// inspection, each node's outcome may carry the engine's inspect JSON, kept in `images`.
import type { ImagePullLine, PullImageNode, PullImageResponse } from "@shoal/shared";

/** Messages of lines that may wait for the caller at most; more are dropped. */
export const MAX_QUEUED_LINES = 1000;

export class PullRun implements AsyncIterable<PullImageResponse> {
  /** The nodes not answered for yet, by id. */
  readonly waiting = new Map<string, PullImageNode>();
  /** An inspection's answers: the engine's inspect JSON by node id, for the nodes that have the image. */
  readonly images = new Map<string, string>();
  /** Messages of lines dropped for a slow caller. */
  dropped = 0;
  private readonly queue: PullImageResponse[] = [];
  private queuedLines = 0;
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(
    readonly id: string,
    readonly nodes: readonly PullImageNode[],
    private readonly onEnd: (run: PullRun) => void,
  ) {
    for (const n of nodes) this.waiting.set(n.nodeId, n);
    this.push({ nodes: [...nodes], node: undefined, lines: [], done: false, error: "" });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Progress of a node still waited for; false when the run does not wait for it. */
  lines(nodeId: string, lines: ImagePullLine[]): boolean {
    const node = this.waiting.get(nodeId);
    if (node === undefined || this.ended) return false;
    if (lines.length === 0) return true;
    if (this.queuedLines >= MAX_QUEUED_LINES) {
      this.dropped++;
      return true;
    }
    this.queuedLines++;
    this.push({ nodes: [], node, lines, done: false, error: "" });
    return true;
  }

  /**
   * The node's outcome ("" error: it has the image; for an inspection, `imageJson` says what it
   * has, "" nothing); the run ends after the last node's.
   */
  finish(nodeId: string, error: string, lines: ImagePullLine[] = [], imageJson = ""): boolean {
    const node = this.waiting.get(nodeId);
    if (node === undefined || this.ended) return false;
    this.waiting.delete(nodeId);
    if (imageJson !== "") this.images.set(nodeId, imageJson);
    this.push({ nodes: [], node, lines, done: true, error });
    if (this.waiting.size === 0) this.end();
    return true;
  }

  /** Every node still waited for fails with `error`, and the run ends. */
  finishAll(error: string): void {
    for (const id of [...this.waiting.keys()]) this.finish(id, error);
    this.end();
  }

  /** Ends the run: the caller reads what is queued, then the end. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake?.();
    this.onEnd(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PullImageResponse> {
    try {
      for (;;) {
        const next = this.queue.shift();
        if (next !== undefined) {
          if (next.node !== undefined && !next.done) this.queuedLines--;
          yield next;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.end(); // the caller stopped reading (or went away)
    }
  }

  private push(message: PullImageResponse): void {
    this.queue.push(message);
    this.wake?.();
  }
}
