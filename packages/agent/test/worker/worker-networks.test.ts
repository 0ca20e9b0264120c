// The worker hands the networks sent with the tasks to NetworkStates before the executor sees the
// tasks of the same message: a full set replaces them, an incremental message changes them.
import { FakeExecutor } from "@shoal/agent";
import {
  AssignmentAction,
  AssignmentsType,
  Network,
  silentLogger,
  type AssignmentChange,
  type NetworkState,
  type Task,
} from "@shoal/shared";
import { afterEach, expect, it } from "vitest";
import { NetworkStates, networkId } from "../../src/network/network-states.js";
import { Worker } from "../../src/worker/worker.js";
import { makeTask } from "../exec/task-fixture.js";
import { RecordingSink } from "./recording-sink.js";

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

const state = (id: string, endpoints = 0): NetworkState => ({
  network: Network.fromPartial({ id }),
  nodeAddress: "",
  peers: [],
  endpoints: Array.from({ length: endpoints }, (_, i) => ({
    taskId: `t${i}`,
    serviceId: "s",
    nodeId: "n",
    address: `10.0.1.${i + 5}`,
    ready: true,
  })),
  services: [],
});
const net = (action: AssignmentAction, s: NetworkState): AssignmentChange => ({
  action,
  task: undefined,
  secret: undefined,
  config: undefined,
  network: s,
});
const update = (task: Task): AssignmentChange => ({
  action: AssignmentAction.UPDATE,
  task,
  secret: undefined,
  config: undefined,
  network: undefined,
});

/** A worker whose executor records the networks NetworkStates holds when it is given each task. */
function setup(): { w: Worker; networks: NetworkStates; seen: Map<string, string[]> } {
  const networks = new NetworkStates();
  const fake = new FakeExecutor();
  const seen = new Map<string, string[]>();
  const controller = fake.controller.bind(fake);
  fake.controller = (task, options) => {
    seen.set(task.id, networks.all().map(networkId));
    return controller(task, options);
  };
  const w = new Worker({
    executor: fake,
    reporter: new RecordingSink(),
    logger: silentLogger(),
    nodeId: "node-1",
    networks,
    backoff: { initialMs: 1, maxMs: 5 },
  });
  workers.push(w);
  return { w, networks, seen };
}

it("a full set: its networks replace those held before its tasks reach the executor", async () => {
  const { w, networks, seen } = setup();
  networks.apply(AssignmentAction.UPDATE, state("stale"));
  const a = makeTask();
  await w.apply({
    type: AssignmentsType.COMPLETE,
    appliesTo: "",
    resultsIn: "1",
    changes: [net(AssignmentAction.UPDATE, state("front")), net(AssignmentAction.UPDATE, state("back")), update(a)],
  });
  expect(seen.get(a.id)).toEqual(["back", "front"]);
  expect(networks.all().map(networkId)).toEqual(["back", "front"]);
});

it("incremental: a new network before the task, a whole new state, and REMOVE", async () => {
  const { w, networks, seen } = setup();
  await w.apply({ type: AssignmentsType.COMPLETE, appliesTo: "", resultsIn: "1", changes: [] });
  const changes: number[] = [];
  networks.onChange(() => changes.push(networks.get("front")?.endpoints.length ?? -1));
  const a = makeTask();
  await w.apply({
    type: AssignmentsType.INCREMENTAL,
    appliesTo: "1",
    resultsIn: "2",
    changes: [net(AssignmentAction.UPDATE, state("front", 1)), update(a)],
  });
  expect(seen.get(a.id)).toEqual(["front"]);
  const incremental = (c: AssignmentChange): Promise<void> =>
    w.apply({ type: AssignmentsType.INCREMENTAL, appliesTo: "2", resultsIn: "3", changes: [c] });
  await incremental(net(AssignmentAction.UPDATE, state("front", 2)));
  await incremental(net(AssignmentAction.REMOVE, state("front")));
  expect(changes).toEqual([1, 2, -1]);
  expect(networks.all()).toEqual([]);
  expect(w.tasks().map((t) => t.id)).toEqual([a.id]); // a network change is not a task change
});
