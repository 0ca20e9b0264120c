// The agent's side of a cluster-wide image pull: the leader asks for one on the session
// (SessionResponse.image_pull); the puller runs it on the executor, apart from the worker, so that
// task work never waits for it, and reports on a ReportImagePull stream: the progress lines
// batched every FLUSH_MS (a layer's progress bar coalesced to its latest value), then the outcome.
// At most `maxRunning` pulls run at once (more are refused at once); each is bounded by the
// timeout the leader gave (within MIN/MAX_TIMEOUT_MS) and aborted when the session ends, when the
// leader stops waiting (it answers the report stream) or when the agent stops. A pull asked with
// inspect_only pulls nothing: the executor inspects the image and the outcome carries the engine's
// inspect JSON (empty: no such image), with the same bounds.
import {
  componentLogger,
  durationToMs,
  errorMessage,
  every,
  systemClock,
  type Clock,
  type ImagePull,
  type ImagePullLine,
  type Logger,
  type Timer,
} from "@shoal/shared";
import type { Executor, PullProgress } from "../exec/executor.js";

/** Lines are sent this often while a pull runs. */
export const FLUSH_MS = 250;
/** Lines held between two sends at most; more are dropped (and counted in the log). */
const MAX_PENDING_LINES = 500;
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const MIN_TIMEOUT_MS = 1000;
const MAX_TIMEOUT_MS = 60 * 60_000;
const DEFAULT_MAX_RUNNING = 4;

/** One report: lines, or the outcome (done); imageJson only for an inspection's outcome. */
export interface ImagePullOutcome {
  readonly lines: ImagePullLine[];
  readonly done: boolean;
  readonly error: string;
  readonly imageJson?: string;
}

/** A ReportImagePull stream of one pull (the session's and the pull's ids are filled in). */
export interface ImagePullReport {
  send(report: ImagePullOutcome): void;
  /** Ends the stream, after the last report. */
  end(): void;
  /** Aborts when the manager has answered the stream (it no longer waits) or the stream broke. */
  readonly closed: AbortSignal;
}

export interface ImagePullerOptions {
  readonly executor: Executor;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
  /** Pulls run at once at most; default 4. */
  readonly maxRunning?: number;
}

export class ImagePuller {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly maxRunning: number;
  private readonly running = new Map<string, AbortController>();
  private stopped = false;

  constructor(private readonly options: ImagePullerOptions) {
    this.logger = componentLogger(options.logger, "image-puller");
    this.clock = options.clock ?? systemClock;
    this.maxRunning = options.maxRunning ?? DEFAULT_MAX_RUNNING;
  }

  /** How many pulls run now. */
  get size(): number {
    return this.running.size;
  }

  /**
   * Runs `pull` and reports on `report` until done; aborted when `session` aborts. Resolves when
   * the pull has ended, never rejects.
   */
  async run(pull: ImagePull, report: ImagePullReport, session: AbortSignal): Promise<void> {
    if (this.running.has(pull.id)) return; // asked twice: the first run reports
    const refusal = this.stopped
      ? "the agent is stopping"
      : this.running.size >= this.maxRunning
        ? `this node already runs ${this.running.size} image pulls, its most at once; try again when one is done`
        : undefined;
    if (refusal !== undefined) {
      report.send({ lines: [], done: true, error: refusal });
      report.end();
      return;
    }
    const stop = new AbortController();
    this.running.set(pull.id, stop);
    const timeoutMs = Math.min(
      Math.max(durationToMs(pull.timeout, DEFAULT_TIMEOUT_MS), MIN_TIMEOUT_MS),
      MAX_TIMEOUT_MS,
    );
    const deadline = this.clock.setTimeout(() => stop.abort(new Error("timed out")), timeoutMs);
    const signal = AbortSignal.any([stop.signal, session, report.closed]);
    const lines = new LineBatch();
    const flusher: Timer = every(this.clock, FLUSH_MS, () => {
      if (lines.size > 0) report.send({ lines: lines.take(), done: false, error: "" });
    });
    const { image, inspectOnly } = pull;
    const doing = inspectOnly ? "inspecting" : "pulling";
    if (!inspectOnly) this.logger.info({ image, pull: pull.id, timeoutMs }, "pulling image on request");
    let error = "";
    let imageJson = "";
    try {
      if (inspectOnly) {
        const found = await this.options.executor.inspectImage(image, signal);
        if (found !== undefined) imageJson = JSON.stringify(found);
      } else {
        await this.options.executor.pull(image, {
          auth: pull.auth,
          platform: pull.platform,
          signal,
          onProgress: (line) => lines.add(line),
        });
      }
    } catch (err: unknown) {
      error = stop.signal.aborted
        ? `${doing} image ${image}: ${this.stopped ? "the agent stopped" : `timed out after ${timeoutMs / 1000} s`}`
        : errorMessage(err);
    } finally {
      flusher.cancel();
      deadline.cancel();
      this.running.delete(pull.id);
    }
    if (lines.dropped > 0) this.logger.debug({ pull: pull.id, dropped: lines.dropped }, "pull progress lines dropped");
    if (session.aborted || report.closed.aborted) {
      this.logger.info(
        { image, pull: pull.id },
        `image ${inspectOnly ? "inspection" : "pull"} abandoned: nobody waits`,
      );
      report.end();
      return;
    }
    if (inspectOnly)
      this.logger.debug({ image, pull: pull.id, found: imageJson !== "", err: error }, "inspected image");
    else if (error === "") this.logger.info({ image, pull: pull.id }, "pulled image on request");
    else this.logger.warn({ image, pull: pull.id, err: error }, "image pull failed");
    report.send({ lines: lines.take(), done: true, error, ...(inspectOnly ? { imageJson } : {}) });
    report.end();
  }

  /** Aborts every pull; later requests are refused. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const c of this.running.values()) c.abort(new Error("the agent stopped"));
  }
}

/** Lines waiting to be sent: a layer's progress bar replaces its previous one. */
class LineBatch {
  private lines: ImagePullLine[] = [];
  dropped = 0;

  get size(): number {
    return this.lines.length;
  }

  add(line: PullProgress): void {
    if (line.progress !== "" || line.total > 0) {
      const i = this.lines.findIndex((l) => l.id === line.id && l.status === line.status && isBar(l));
      if (i !== -1) {
        this.lines[i] = { ...line };
        return;
      }
    }
    if (this.lines.length >= MAX_PENDING_LINES) {
      this.dropped++;
      return;
    }
    this.lines.push({ ...line });
  }

  take(): ImagePullLine[] {
    const out = this.lines;
    this.lines = [];
    return out;
  }
}

const isBar = (l: ImagePullLine): boolean => l.progress !== "" || l.total > 0;
