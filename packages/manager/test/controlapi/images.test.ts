// Control.PullImage over real gRPC with TLS: the leader streams what its dispatcher's pulls give,
// a follower forwards the stream to the leader once, the request is checked before anything is
// asked, and a client that goes away stops the pull. Control.InspectImage likewise, unary.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ControlClient,
  ControlService,
  ErrorCode,
  MANAGER_CHANNEL_OPTIONS,
  RaftMember,
  ShoalError,
  channelCredentials,
  durationFromMs,
  fromServiceError,
  systemClock,
  unaryCall,
  type InspectImageRequest,
  type InspectImageResponse,
  type PullImageRequest,
  type PullImageResponse,
  type TlsMaterial,
} from "@shoal/shared";
import { MemoryStore } from "@shoal/manager";
import { ControlApi } from "../../src/controlapi/control-server.js";
import type { ImagePullSource } from "../../src/controlapi/images.js";
import type { ImageInspectOrder, ImagePullOrder } from "../../src/dispatcher/image-pulls.js";
import type { LinearizableReader, RaftView } from "../../src/state/raft/raft-view.js";
import { material, serve, testCluster } from "../ca/fixtures.js";

let managerTls: TlsMaterial;
let clientTls: TlsMaterial;

beforeAll(async () => {
  const { ca } = await testCluster();
  managerTls = await material(ca, "m1", "manager");
  clientTls = await material(ca, "admin", "client");
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function raftView(isLeader: boolean, leaderAddr: string | undefined): RaftView & LinearizableReader {
  const members = [1, 2, 3].map((raftId) => RaftMember.create({ raftId, nodeId: `n${raftId}`, addr: `m${raftId}` }));
  return {
    raftId: 1,
    isLeader,
    leaderId: leaderAddr === undefined ? 0 : 1,
    leaderAddr: () => leaderAddr,
    memberList: () => members,
    status: () => ({ term: 1, commit: 1, applied: 1, leader: 1, progress: new Map() }),
    linearizableRead: () => Promise.resolve(),
  };
}

/** Pulls that give `messages`, then end (or wait for the abort when `hang`); records each order. */
class FakePulls implements ImagePullSource {
  readonly orders: ImagePullOrder[] = [];
  readonly inspections: ImageInspectOrder[] = [];
  inspected: InspectImageResponse = { nodes: [] };
  aborted = false;
  constructor(
    private readonly messages: PullImageResponse[],
    private readonly hang = false,
    private readonly error?: ShoalError,
  ) {}

  pull(order: ImagePullOrder, signal: AbortSignal): AsyncIterable<PullImageResponse> {
    this.orders.push(order);
    if (this.error) throw this.error;
    signal.addEventListener("abort", () => (this.aborted = true));
    const { messages, hang } = this;
    return (async function* () {
      yield* messages;
      if (hang) await new Promise((resolve) => signal.addEventListener("abort", resolve));
    })();
  }

  inspect(order: ImageInspectOrder): Promise<InspectImageResponse> {
    this.inspections.push(order);
    return this.error ? Promise.reject(this.error) : Promise.resolve(this.inspected);
  }
}

async function manager(isLeader: boolean, leaderAddr: string | undefined, pulls?: FakePulls): Promise<string> {
  const api = new ControlApi({
    nodeId: "n1",
    store: new MemoryStore(),
    raft: raftView(isLeader, leaderAddr),
    material: managerTls,
    clusterId: () => "c1",
    clock: systemClock,
    imagePulls: pulls,
  });
  const served = await serve(managerTls, [[ControlService, api.handlers()]]);
  cleanups.push(() => {
    api.close();
    served.server.forceShutdown();
  });
  return served.addr;
}

function client(addr: string): ControlClient {
  const c = new ControlClient(addr, channelCredentials(clientTls), MANAGER_CHANNEL_OPTIONS);
  cleanups.push(() => c.close());
  return c;
}

async function pullImage(addr: string, request: Partial<PullImageRequest>): Promise<PullImageResponse[]> {
  const call = client(addr).pullImage({ image: "", auth: undefined, platform: "", timeout: undefined, ...request });
  const out: PullImageResponse[] = [];
  try {
    for await (const m of call as AsyncIterable<PullImageResponse>) out.push(m);
  } catch (err: unknown) {
    throw fromServiceError(err);
  }
  return out;
}

const node = { nodeId: "n9", hostname: "a" };
const first: PullImageResponse = { nodes: [node], node: undefined, lines: [], done: false, error: "" };
const outcome: PullImageResponse = { nodes: [], node, lines: [], done: true, error: "" };

describe("Control.PullImage", () => {
  it("on the leader: streams the pulls' messages for the checked request (:latest, 5 minutes by default)", async () => {
    const pulls = new FakePulls([first, outcome]);
    const leader = await manager(true, undefined, pulls);
    expect(await pullImage(leader, { image: "registry:5000/app", platform: "linux/amd64" })).toEqual([first, outcome]);
    expect(pulls.orders).toEqual([
      { image: "registry:5000/app:latest", auth: undefined, platform: "linux/amd64", timeoutMs: 300_000 },
    ]);
  });

  it("on a follower: forwards the stream to the leader, with the registry credentials", async () => {
    const pulls = new FakePulls([first, outcome]);
    const leader = await manager(true, undefined, pulls);
    const follower = await manager(false, leader);
    const auth = { username: "u", password: "p", serverAddress: "", identityToken: "", registryToken: "" };
    const got = await pullImage(follower, { image: "app:1", auth, timeout: durationFromMs(2000) });
    expect(got).toEqual([first, outcome]);
    expect(pulls.orders).toEqual([{ image: "app:1", auth, platform: "", timeoutMs: 2000 }]);
  });

  it("refuses a bad request before asking anyone, naming the field", async () => {
    const pulls = new FakePulls([]);
    const leader = await manager(true, undefined, pulls);
    await expect(pullImage(leader, { image: "Not A/Ref!" })).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: 'image: "Not A/Ref!" is not a valid image reference',
    });
    await expect(pullImage(leader, { image: "app:1", timeout: durationFromMs(2 * 3600_000) })).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: "timeout: must be at most 1 hour",
    });
    await expect(pullImage(leader, { image: "app:1", platform: "linux amd64" })).rejects.toMatchObject({
      message: 'platform: "linux amd64" is not a platform such as linux/amd64',
    });
    expect(pulls.orders).toEqual([]);
  });

  it("answers the leader's refusal as it is, and NOT_LEADER without a leader or when forwarded twice", async () => {
    const refusing = new FakePulls([], false, new ShoalError(ErrorCode.FailedPrecondition, "no node is ready"));
    const leader = await manager(true, undefined, refusing);
    const follower = await manager(false, leader);
    await expect(pullImage(follower, { image: "app:1" })).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: "no node is ready",
    });
    const lost = await manager(false, undefined);
    await expect(pullImage(lost, { image: "app:1" })).rejects.toMatchObject({
      code: ErrorCode.NotLeader,
      message: expect.stringContaining("lost its quorum") as unknown,
    });
    // Two followers that each think the other leads: the call goes one hop, then stops.
    const stale = await manager(false, follower);
    await expect(pullImage(stale, { image: "app:1" })).rejects.toMatchObject({ code: ErrorCode.NotLeader });
  });

  it("stops the pull when the client goes away, through a follower too", async () => {
    const pulls = new FakePulls([first], true);
    const leader = await manager(true, undefined, pulls);
    const follower = await manager(false, leader);
    const call = client(follower).pullImage({ image: "app:1", auth: undefined, platform: "", timeout: undefined });
    call.on("error", () => undefined);
    await new Promise((resolve) => call.once("data", resolve));
    call.cancel();
    await expect.poll(() => pulls.aborted).toBe(true);
  });
});

describe("Control.PullImage without a dispatcher", () => {
  it("is refused as unavailable", async () => {
    const leader = await manager(true, undefined);
    await expect(pullImage(leader, { image: "app:1" })).rejects.toMatchObject({ code: ErrorCode.Unavailable });
  });
});

function inspect(addr: string, request: Partial<InspectImageRequest>): Promise<InspectImageResponse> {
  return unaryCall(client(addr), "inspectImage", { image: "", timeout: undefined, ...request });
}

describe("Control.InspectImage", () => {
  const answer: InspectImageResponse = { nodes: [{ node, imageJson: '{"Id":"sha256:1"}', error: "" }] };

  it("on the leader: answers the nodes' answers for the checked request (10 s by default)", async () => {
    const pulls = new FakePulls([]);
    pulls.inspected = answer;
    const leader = await manager(true, undefined, pulls);
    expect(await inspect(leader, { image: "registry:5000/app" })).toEqual(answer);
    expect(pulls.inspections).toEqual([{ image: "registry:5000/app", timeoutMs: 10_000 }]);
  });

  it("on a follower: forwards the call to the leader once", async () => {
    const pulls = new FakePulls([]);
    pulls.inspected = answer;
    const leader = await manager(true, undefined, pulls);
    const follower = await manager(false, leader);
    expect(await inspect(follower, { image: "sha256:abc", timeout: durationFromMs(2000) })).toEqual(answer);
    expect(pulls.inspections).toEqual([{ image: "sha256:abc", timeoutMs: 2000 }]);
    const stale = await manager(false, follower);
    await expect(inspect(stale, { image: "app:1" })).rejects.toMatchObject({ code: ErrorCode.NotLeader });
  });

  it("refuses a bad request before asking anyone, naming the field", async () => {
    const pulls = new FakePulls([]);
    const leader = await manager(true, undefined, pulls);
    await expect(inspect(leader, { image: "" })).rejects.toMatchObject({ message: "image: is required" });
    await expect(inspect(leader, { image: "a b" })).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: 'image: "a b" is not an image name, reference or id',
    });
    await expect(inspect(leader, { image: "app", timeout: durationFromMs(3600_000) })).rejects.toMatchObject({
      message: "timeout: must be at most 5 minutes",
    });
    expect(pulls.inspections).toEqual([]);
  });
});
