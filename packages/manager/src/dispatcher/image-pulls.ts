// Image pulls on every ready node, for Control.PullImage (`docker pull` against a manager). The
// leader asks each ready node's agent on its open session (SessionResponse.image_pull); the agent
// reports on a ReportImagePull stream; the caller reads the nodes asked, then each node's lines
// and outcome as they come (pull-run.ts). A node is answered for when its agent reports done, at
// once when it cannot be asked (no open session, an agent that does not pull on request), when
// its session ends, or at the deadline (the pull's timeout plus ANSWER_GRACE_MS): every call ends.
// An inspection (Control.InspectImage, `GET /images/{name}/json`) is a run of the same kind whose
// ask has inspect_only: the agents inspect instead of pulling and answer with the engine's JSON.
//
// Nothing of it is stored: a pull is not cluster state, and registry credentials must never reach
// the Raft log. So this is the part of the dispatcher that a Control call reaches directly, as
// clients' log subscriptions reach the agents through the log broker.
import type * as grpc from "@grpc/grpc-js";
import {
  ErrorCode,
  ShoalError,
  componentLogger,
  durationFromMs,
  errorMessage,
  newId,
  toServiceError,
  type Clock,
  type ImagePull,
  type InspectImageNode,
  type InspectImageResponse,
  type Logger,
  type PullImageNode,
  type PullImageResponse,
  type RegistryAuth,
  type ReportImagePullRequest,
  type ReportImagePullResponse,
} from "@shoal/shared";
import { PullRun } from "./pull-run.js";

/** How long after the agents' own deadline a node that said nothing is given up. */
export const ANSWER_GRACE_MS = 5000;

/** What the dispatcher lends the image pulls. */
export interface PullSessions {
  /** Whether this manager leads (only the leader has the agents' sessions). */
  leading(): boolean;
  /** The ready nodes. */
  readyNodes(): PullImageNode[];
  /** Asks the node's agent on its open session; returns why it cannot, or undefined once asked. */
  ask(nodeId: string, pull: ImagePull): string | undefined;
}

/** A pull for every ready node, validated (controlapi/images.ts). */
export interface ImagePullOrder {
  /** A reference with a tag or a digest. */
  readonly image: string;
  readonly auth: RegistryAuth | undefined;
  readonly platform: string;
  readonly timeoutMs: number;
}

/** An inspection on every ready node, validated (controlapi/images.ts). */
export interface ImageInspectOrder {
  /** A name, reference or id, as the engines take it. */
  readonly image: string;
  readonly timeoutMs: number;
}

/** What a run asks of each node. */
interface RunOrder extends ImagePullOrder {
  readonly inspectOnly?: boolean;
}

export interface ImagePullsOptions {
  readonly sessions: PullSessions;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class ImagePulls {
  private readonly runs = new Map<string, PullRun>();
  private readonly logger: Logger;

  constructor(private readonly options: ImagePullsOptions) {
    this.logger = componentLogger(options.logger, "image-pulls");
  }

  /**
   * Asks every ready node to pull; the messages end once every node has answered. Throws at once
   * when this manager does not lead or no node is ready. Stop reading (or abort `signal`) to give
   * up: agents still pulling are then told so by the answer to their next report.
   */
  pull(order: ImagePullOrder, signal: AbortSignal): AsyncIterable<PullImageResponse> {
    const { image, auth, platform, timeoutMs } = order;
    return this.start("pull", { image, auth, platform, timeoutMs }, signal);
  }

  /**
   * Asks every ready node's engine for the image, without pulling it: each node's answer, by node
   * id (imageJson "" when the engine has no such image). Rejects when this manager does not lead
   * or no node is ready.
   */
  async inspect(order: ImageInspectOrder, signal: AbortSignal): Promise<InspectImageResponse> {
    const run = this.start("inspection", { ...order, auth: undefined, platform: "", inspectOnly: true }, signal);
    const nodes: InspectImageNode[] = [];
    for await (const m of run) {
      if (m.done && m.node !== undefined) {
        nodes.push({ node: m.node, imageJson: run.images.get(m.node.nodeId) ?? "", error: m.error });
      }
    }
    nodes.sort((a, b) => (a.node!.nodeId < b.node!.nodeId ? -1 : a.node!.nodeId > b.node!.nodeId ? 1 : 0));
    return { nodes };
  }

  private start(what: "pull" | "inspection", order: RunOrder, signal: AbortSignal): PullRun {
    const { sessions, clock } = this.options;
    if (!sessions.leading()) throw new ShoalError(ErrorCode.NotLeader, `image ${what}s are run by the leader`);
    const nodes = sessions.readyNodes();
    if (nodes.length === 0) {
      throw new ShoalError(ErrorCode.FailedPrecondition, `no node is ready for the image ${what}`);
    }
    const deadline = clock.setTimeout(() => {
      run.finishAll(`no answer from the node within ${Math.round((order.timeoutMs + ANSWER_GRACE_MS) / 1000)} s`);
    }, order.timeoutMs + ANSWER_GRACE_MS);
    const onAbort = (): void => run.end();
    const run = new PullRun(newId(), nodes, (ended) => {
      deadline.cancel();
      signal.removeEventListener("abort", onAbort);
      this.runs.delete(ended.id);
      const { id: pull, waiting, dropped } = ended;
      this.logger.info({ image: order.image, pull, unanswered: waiting.size, dropped }, `image ${what} ended`);
    });
    this.runs.set(run.id, run);
    signal.addEventListener("abort", onAbort, { once: true });
    const ask: ImagePull = {
      id: run.id,
      image: order.image,
      auth: order.auth,
      platform: order.platform,
      timeout: durationFromMs(order.timeoutMs),
      inspectOnly: order.inspectOnly === true,
    };
    this.logger.info({ image: order.image, pull: run.id, nodes: nodes.length }, `image ${what} on every ready node`);
    for (const node of nodes) {
      const refusal = sessions.ask(node.nodeId, ask);
      if (refusal !== undefined) run.finish(node.nodeId, refusal);
    }
    if (signal.aborted) run.end();
    return run;
  }

  /** The handler of Dispatcher.ReportImagePull; `nodeOf` names the node of a session (or throws). */
  reportHandler(
    nodeOf: (sessionId: string, metadata: grpc.Metadata) => string,
  ): grpc.handleClientStreamingCall<ReportImagePullRequest, ReportImagePullResponse> {
    return (call, callback) => {
      let answered = false;
      let pending: { nodeId: string; pullId: string } | undefined;
      const answer = (err: ShoalError | undefined): void => {
        if (answered) return;
        answered = true;
        call.removeAllListeners("data");
        if (err === undefined) callback(null, {});
        else callback(toServiceError(err));
      };
      call.on("data", (req: ReportImagePullRequest) => {
        if (answered) return;
        try {
          const nodeId = nodeOf(req.sessionId, call.metadata);
          const run = this.runs.get(req.pullId);
          const waited = req.done
            ? run?.finish(nodeId, req.error, req.lines, req.imageJson)
            : run?.lines(nodeId, req.lines);
          if (waited !== true) {
            answer(new ShoalError(ErrorCode.NotFound, `no image pull ${req.pullId} waits for this node now`));
            return;
          }
          pending = req.done ? undefined : { nodeId, pullId: req.pullId };
        } catch (err: unknown) {
          answer(err instanceof ShoalError ? err : new ShoalError(ErrorCode.Internal, errorMessage(err)));
        }
      });
      const broke = (why: string): void => {
        // A report stream that ends before its pull does: the node's outcome is unknown.
        if (pending !== undefined) this.runs.get(pending.pullId)?.finish(pending.nodeId, why);
        pending = undefined;
      };
      call.once("end", () => {
        broke("the agent ended its report before the pull ended");
        answer(undefined);
      });
      call.once("error", (err: Error) => broke(`the agent's report broke: ${err.message}`));
      call.once("cancelled", () => broke("the agent's report was cancelled"));
    };
  }

  /** The node's session ended: pulls waiting for it give it up. */
  sessionEnded(nodeId: string): void {
    for (const run of [...this.runs.values()]) run.finish(nodeId, "the node's session ended before it answered");
  }

  /** Ends every pull (this manager stops leading, or stops); nodes not answered for fail with `reason`. */
  close(reason: string): void {
    for (const run of [...this.runs.values()]) run.finishAll(reason);
  }
}
