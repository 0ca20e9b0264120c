// Control.PullImage: validated on the manager called, run by the leader's dispatcher (ImagePulls),
// forwarded once by a follower. Messages are written with the stream's backpressure; the leader's
// queue is bounded, so a slow client costs dropped progress lines, never memory. A follower gives
// up on the leader's stream a minute after the pull's own deadline (the injected clock).
// Control.InspectImage: the same way, unary: validated here, run by the leader's ImagePulls.
import type * as grpc from "@grpc/grpc-js";
import {
  ErrorCode,
  ShoalError,
  type Clock,
  type InspectImageRequest,
  type InspectImageResponse,
  type PullImageRequest,
  type PullImageResponse,
  type pki,
} from "@shoal/shared";
import { ANSWER_GRACE_MS, type ImageInspectOrder, type ImagePullOrder } from "../dispatcher/image-pulls.js";
import { NotLeaderError } from "../state/raft/not-leader-error.js";
import type { RaftView } from "../state/raft/raft-view.js";
import type { LeaderForwarder } from "./forward.js";
import { imageInspectOrder, imagePullOrder } from "./validate-image-pull.js";

/** Runs pulls and inspections on every ready node (the dispatcher's ImagePulls). */
export interface ImagePullSource {
  pull(order: ImagePullOrder, signal: AbortSignal): AsyncIterable<PullImageResponse>;
  inspect(order: ImageInspectOrder, signal: AbortSignal): Promise<InspectImageResponse>;
}

export interface PullImageContext {
  readonly raft: RaftView;
  /** Undefined on a manager without a dispatcher (tests): the call is then refused. */
  readonly pulls: ImagePullSource | undefined;
  readonly forwarder: LeaderForwarder;
  readonly clock: Clock;
  /** The original caller, for a forwarded call. */
  readonly caller: pki.CertIdentity | undefined;
  /** Whether a follower forwarded the call here (it is not forwarded again). */
  readonly forwarded: boolean;
  /** Says why no leader is known. */
  noLeader(): ShoalError;
}

/** How long a follower waits for the leader's stream beyond the pull's timeout. */
const FORWARD_SLACK_MS = 60_000;

/** Serves one PullImage call until its messages end, the client goes away, or it fails (thrown). */
export async function servePullImage(
  ctx: PullImageContext,
  call: grpc.ServerWritableStream<PullImageRequest, PullImageResponse>,
): Promise<void> {
  const order = imagePullOrder(call.request);
  const stop = new AbortController();
  const gone = (): void => stop.abort(new ShoalError(ErrorCode.Cancelled, "the client went away"));
  call.once("cancelled", gone);
  call.once("close", gone);
  const timer = ctx.clock.setTimeout(
    () => stop.abort(new ShoalError(ErrorCode.DeadlineExceeded, "the leader did not end the pull in time")),
    order.timeoutMs + FORWARD_SLACK_MS,
  );
  try {
    for await (const message of messages(ctx, call.request, order, stop.signal)) {
      if (stop.signal.aborted) break;
      if (!call.write(message)) {
        await new Promise<void>((resolve) => {
          call.once("drain", resolve);
          stop.signal.addEventListener("abort", () => resolve(), { once: true });
        });
      }
    }
    if (stop.signal.aborted && !call.cancelled) throw stop.signal.reason;
  } finally {
    timer.cancel();
    call.off("cancelled", gone);
    call.off("close", gone);
  }
  call.end();
}

function messages(
  ctx: PullImageContext,
  request: PullImageRequest,
  order: ImagePullOrder,
  signal: AbortSignal,
): AsyncIterable<PullImageResponse> {
  const { raft } = ctx;
  if (raft.isLeader) {
    if (ctx.pulls === undefined) throw new ShoalError(ErrorCode.Unavailable, "this manager runs no image pulls");
    return ctx.pulls.pull(order, signal);
  }
  const leader = raft.leaderAddr();
  if (!leader) throw ctx.noLeader();
  // A call forwarded once is not forwarded again: two managers with stale views of the leader
  // must not bounce it between them.
  if (ctx.forwarded) throw new NotLeaderError(leader);
  return ctx.forwarder.pullImage(leader, request, ctx.caller, signal);
}

/** Serves one InspectImage call: on the leader, or forwarded to it once. */
export async function inspectImage(ctx: PullImageContext, request: InspectImageRequest): Promise<InspectImageResponse> {
  const order = imageInspectOrder(request);
  const { raft } = ctx;
  if (raft.isLeader) {
    if (ctx.pulls === undefined) throw new ShoalError(ErrorCode.Unavailable, "this manager runs no image inspections");
    return ctx.pulls.inspect(order, new AbortController().signal);
  }
  const leader = raft.leaderAddr();
  if (!leader) throw ctx.noLeader();
  if (ctx.forwarded) throw new NotLeaderError(leader);
  // The leader answers within the timeout and its grace; a little more covers the way there.
  const timeoutMs = order.timeoutMs + ANSWER_GRACE_MS + 5000;
  return ctx.forwarder.call(leader, "inspectImage", request, ctx.caller, timeoutMs);
}
