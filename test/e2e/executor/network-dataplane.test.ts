// The network data plane on two real hosts (namespaces with their own dockerd): each host runs a
// DataPlane and a DockerExecutor in this process, the data plane's commands entering the host's
// namespace with nsenter. NetworkStates are written by hand, as the dispatcher would send them.
// What a user would check: a task on one host reaches a task on the other by its address, a task
// on two networks reaches both, a task of another network does not, a restarted data plane keeps
// connections, and a network that is no longer needed leaves nothing behind.
import {
  AssignmentAction,
  NetworkState,
  Task,
  TaskState,
  silentLogger,
  type DeepPartial,
  type NetworkEndpoint,
} from "@shoal/shared";
import { DataPlane, DockerExecutor, NetworkStates, doTask, netnsRunner, type Controller } from "@shoal/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Host } from "../harness/index.js";

const N1 = { id: "dpnet1", vni: 5001, subnet: "10.91.1.0/24", gateway: "10.91.1.1" };
const N2 = { id: "dpnet2", vni: 5002, subnet: "10.91.2.0/24", gateway: "10.91.2.1" };
type Net = typeof N1;

interface Side {
  readonly host: Host;
  readonly nodeId: string;
  readonly executor: DockerExecutor;
  readonly states: NetworkStates;
  dataPlane: DataPlane;
}

/** One task per container: its node, network and address (and a second network's, maybe). */
interface Placed {
  readonly name: string;
  readonly side: () => Side;
  readonly net: Net;
  readonly address: string;
  readonly also?: { readonly net: Net; readonly address: string };
  readonly command: string;
}

let harness: Harness;
let a: Side;
let b: Side;
const controllers: Controller[] = [];

const PLACED: Placed[] = [
  { name: "server", side: () => b, net: N1, address: "10.91.1.3", command: "nc -ll -p 8080 -e echo hello" },
  { name: "echo", side: () => b, net: N1, address: "10.91.1.4", command: "nc -ll -p 8081 -e cat" },
  { name: "other", side: () => b, net: N2, address: "10.91.2.3", command: "nc -ll -p 8080 -e echo other" },
  { name: "client", side: () => a, net: N1, address: "10.91.1.2", command: "sleep 3600" },
  { name: "stranger", side: () => a, net: N2, address: "10.91.2.2", command: "sleep 3600" },
  {
    name: "both",
    side: () => a,
    net: N1,
    address: "10.91.1.5",
    also: { net: N2, address: "10.91.2.5" },
    command: "sleep 3600",
  },
];

/** The task's networks, first first: [net, address]. */
function netsOf(p: Placed): [Net, string][] {
  return [[p.net, p.address], ...(p.also ? [[p.also.net, p.also.address] as [Net, string]] : [])];
}

function dataPlane(side: Omit<Side, "dataPlane">): DataPlane {
  return new DataPlane({
    states: side.states,
    networks: side.executor.hostNetworks,
    logger: silentLogger(),
    runner: netnsRunner(side.host.netnsPath),
    dataPathAddr: () => Promise.resolve(side.host.address),
    backoff: { initialMs: 100, maxMs: 1_000 },
    removalRetryMs: 300,
    resyncMs: 1_000,
  });
}

function side(host: Host, nodeId: string): Side {
  const executor = new DockerExecutor({ logger: silentLogger(), host: host.dockerHost, nodeId });
  const partial = { host, nodeId, executor, states: new NetworkStates() };
  return { ...partial, dataPlane: dataPlane(partial) };
}

/** The state of `net` as `self` is told it: every endpoint, and the other side as peer when it has one there. */
function stateFor(self: Side, net: Net): NetworkState {
  const endpoints: DeepPartial<NetworkEndpoint>[] = PLACED.flatMap((p) =>
    netsOf(p)
      .filter(([n]) => n === net)
      .map(([, address]) => ({ taskId: `${p.name}-task`, nodeId: p.side().nodeId, address, ready: true })),
  );
  const other = self === a ? b : a;
  const peers = endpoints.some((e) => e.nodeId === other.nodeId)
    ? [{ nodeId: other.nodeId, dataPathAddr: other.host.address }]
    : [];
  return NetworkState.fromPartial({
    network: { id: net.id, vni: net.vni, ipam: { configs: [{ subnet: net.subnet, gateway: net.gateway }] } },
    peers,
    endpoints,
  });
}

function task(p: Placed): Task {
  return Task.fromPartial({
    id: `${p.name}-task`,
    serviceId: `svc-${p.name}`,
    slot: 1,
    nodeId: p.side().nodeId,
    serviceAnnotations: { name: `dp-${p.name}` },
    desiredState: TaskState.RUNNING,
    status: { state: TaskState.ASSIGNED },
    spec: { container: { image: harness.baseImage, command: ["sh", "-c", p.command] } },
    networks: netsOf(p).map(([net, address]) => ({ networkId: net.id, addresses: [`${address}/24`] })),
  });
}

/** Runs the task to RUNNING as the agent's runner would. */
async function runTask(t: Task, s: Side): Promise<void> {
  const controller = s.executor.controller(t);
  controllers.push(controller);
  let current = t;
  const signal = AbortSignal.timeout(60_000);
  for (;;) {
    const step = await doTask(current, controller, signal);
    if (step.status.state >= TaskState.RUNNING || step.outcome === "noop") {
      expect(step.status.state, step.status.err).toBe(TaskState.RUNNING);
      return;
    }
    if (step.outcome === "retry") await new Promise((r) => setTimeout(r, 200));
    current = { ...current, status: step.status };
  }
}

function containerOf(name: string): string {
  return `dp-${name}.1.${name}-task`;
}

/** What `nc ADDR PORT` run in the container `from` prints (its exit status ignored). */
async function ncFrom(from: Placed, address: string, port: number): Promise<string> {
  const args = ["exec", containerOf(from.name), "busybox", "timeout", "5", "nc", "-w", "3", address, String(port)];
  const res = await from.side().host.docker(args, { check: false, timeoutMs: 20_000 });
  return res.stdout.trim();
}

function placed(name: string): Placed {
  const p = PLACED.find((x) => x.name === name);
  if (p === undefined) throw new Error(name);
  return p;
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["dataplanea", "dataplaneb"], pullBaseImage: true });
  const [ha, hb] = harness.hosts;
  a = side(ha!, "node-a");
  b = side(hb!, "node-b");
  for (const s of [a, b]) {
    for (const net of [N1, N2]) s.states.apply(AssignmentAction.UPDATE, stateFor(s, net));
    s.dataPlane.start();
  }
  for (const p of PLACED) await runTask(task(p), p.side());
});

afterAll(async () => {
  for (const c of controllers) c.close();
  for (const s of [a, b]) {
    await s?.dataPlane.stop();
    await s?.executor.close();
  }
  await harness?.dispose();
});

describe("the network data plane on two hosts", () => {
  it("gives each task its allocated address on its network's bridge", async () => {
    const res = await b.host.docker([
      "inspect",
      "--format",
      "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}}{{end}} {{.HostConfig.Dns}}",
      containerOf("server"),
    ]);
    expect(res.stdout.trim()).toBe(`shoal-${N1.id}=10.91.1.3 [10.91.1.1]`);
  });

  it("joins a task to each of its networks, each with its address", async () => {
    const res = await a.host.docker([
      "inspect",
      "--format",
      "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}",
      containerOf("both"),
    ]);
    expect(res.stdout.trim()).toBe(`shoal-${N1.id}=10.91.1.5 shoal-${N2.id}=10.91.2.5`);
    expect(await ncFrom(placed("both"), "10.91.1.3", 8080)).toBe("hello");
    expect(await ncFrom(placed("both"), "10.91.2.3", 8080)).toBe("other");
  });

  it("lets a task on one host reach a task of its network on the other by its address", async () => {
    expect(await ncFrom(placed("client"), "10.91.1.3", 8080)).toBe("hello");
  });

  it("keeps two networks apart", async () => {
    expect(await ncFrom(placed("stranger"), "10.91.2.3", 8080)).toBe("other"); // its own network works
    expect(await ncFrom(placed("stranger"), "10.91.1.3", 8080)).toBe("");
    expect(await ncFrom(placed("client"), "10.91.2.3", 8080)).toBe("");
  });

  it("keeps connections and addresses when the data plane restarts", async () => {
    const client = placed("client");
    // A connection open across the restart: one line before, one after.
    const args = ["exec", containerOf("client"), "sh", "-c", "(echo one; sleep 4; echo two) | nc 10.91.1.4 8081"];
    const open = client.side().host.docker(args, { check: false, timeoutMs: 30_000 });
    const routesBefore = await a.host.exec("ip", ["-j", "route", "show", "dev", "shv5001"]);
    await a.dataPlane.stop();
    a.dataPlane = dataPlane(a);
    a.dataPlane.start();
    await a.dataPlane.settled();
    expect((await a.host.exec("ip", ["-j", "route", "show", "dev", "shv5001"])).stdout).toBe(routesBefore.stdout);
    expect((await open).stdout.trim().split("\n")).toEqual(["one", "two"]);
    expect(await ncFrom(client, "10.91.1.3", 8080)).toBe("hello");
  });

  it("puts back an entry removed behind its back", async () => {
    // (A pass may run between the two: whichever is gone at the end comes back.)
    const del = "route del 10.91.1.3/32 dev shv5001\nneigh del 10.91.1.3 dev shv5001\n";
    await a.host.exec("ip", ["-force", "-batch", "-"], { input: del, check: false });
    await expect
      .poll(async () => (await a.host.exec("ip", ["route", "show", "dev", "shv5001"])).stdout, { timeout: 10_000 })
      .toContain("10.91.1.3");
    expect(await ncFrom(placed("client"), "10.91.1.3", 8080)).toBe("hello");
  });

  it("follows an endpoint that goes, and removes a network no longer needed", async () => {
    // N2's tasks on host A end: A no longer needs N2, and B no longer routes their addresses.
    await a.host.docker(["rm", "-f", containerOf("stranger"), containerOf("both")]);
    a.states.apply(AssignmentAction.REMOVE, stateFor(a, N2));
    const n2OnB = stateFor(b, N2);
    b.states.apply(AssignmentAction.UPDATE, {
      ...n2OnB,
      peers: [],
      endpoints: n2OnB.endpoints.filter((e) => e.nodeId === b.nodeId),
    });
    await a.dataPlane.settled();
    await b.dataPlane.settled();
    const links = await a.host.exec("ip", ["-br", "link", "show"]);
    expect(links.stdout).not.toMatch(/shv5002|shb5002/);
    expect(links.stdout).toMatch(/shv5001/);
    expect((await a.host.docker(["network", "ls", "--format", "{{.Name}}"])).stdout).not.toContain(N2.id);
    const routesOnB = await b.host.exec("ip", ["route", "show", "dev", "shv5002"]);
    expect(routesOnB.stdout).not.toMatch(/10\.91\.2\.[25]\b/);
    expect(await ncFrom(placed("client"), "10.91.1.3", 8080)).toBe("hello");
  });
});
