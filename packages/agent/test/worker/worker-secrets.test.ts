// The worker's secrets and configs: kept by id in memory as the assignments bring them (a full
// set replaces them, REMOVE forgets one), handed to the controllers that make the tasks' files,
// and never written to a log line.
import { Writable } from "node:stream";
import { FakeExecutor } from "@shoal/agent";
import {
  AssignmentAction,
  AssignmentsType,
  Config,
  Secret,
  TaskState,
  createLogger,
  type AssignmentChange,
  type Task,
} from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryTaskStore } from "../../src/worker/task-store.js";
import { Worker } from "../../src/worker/worker.js";
import { makeTask } from "../exec/task-fixture.js";
import { RecordingSink } from "./recording-sink.js";

const SECRET_BYTES = "s3cr3t-bytes-7f2a91";
const CONFIG_BYTES = "listen 8080";
const secret = (id: string, name: string, data = SECRET_BYTES): Secret =>
  Secret.fromPartial({ id, spec: { annotations: { name }, data: Buffer.from(data) } });
const config = (id: string, name: string, data = CONFIG_BYTES): Config =>
  Config.fromPartial({ id, spec: { annotations: { name }, data: Buffer.from(data) } });

const change = (action: AssignmentAction, part: Partial<AssignmentChange>): AssignmentChange => ({
  action,
  task: undefined,
  secret: undefined,
  config: undefined,
  network: undefined,
  ...part,
});
const UPDATE = AssignmentAction.UPDATE;
const REMOVE = AssignmentAction.REMOVE;

/** A task using the secret and config given (by id and name). */
function usingTask(secretRef?: [string, string], configRef?: [string, string]): Task {
  return makeTask({
    spec: {
      container: {
        image: "shoal-base:1",
        secrets: secretRef ? [{ secretId: secretRef[0], secretName: secretRef[1] }] : [],
        configs: configRef ? [{ configId: configRef[0], configName: configRef[1] }] : [],
      },
    },
  });
}

/** The ways bytes may show in a JSON log line: text, base64, hex, a Buffer's or a Uint8Array's JSON. */
function encodings(text: string): string[] {
  const bytes = Buffer.from(text);
  const start = [...bytes.subarray(0, 6)];
  return [
    text,
    bytes.toString("base64"),
    bytes.toString("hex"),
    start.join(","),
    start.map((b, i) => `"${i}":${b}`).join(","),
  ];
}

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

/** A worker logging everything (trace) into `lines`. */
function worker(fake: FakeExecutor): { w: Worker; sink: RecordingSink; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString("utf8"));
      callback();
    },
  });
  const sink = new RecordingSink();
  const w = new Worker({
    executor: fake,
    reporter: sink,
    logger: createLogger({ level: "trace", destination, pretty: false }),
    store: new MemoryTaskStore(),
    nodeId: "node-1",
    backoff: { initialMs: 1, maxMs: 5 },
  });
  workers.push(w);
  return { w, sink, lines };
}

describe("Worker: secrets and configs", () => {
  it("keeps the secrets and configs of a full set, hands them to the task's controller, and forgets them on REMOVE", async () => {
    const fake = new FakeExecutor();
    const { w, sink } = worker(fake);
    const task = usingTask(["sec1", "db_password"], ["cfg1", "app.conf"]);
    await w.apply({
      type: AssignmentsType.COMPLETE,
      appliesTo: "",
      resultsIn: "set1",
      changes: [
        change(UPDATE, { secret: secret("sec1", "db_password") }),
        change(UPDATE, { config: config("cfg1", "app.conf") }),
        change(UPDATE, { task }),
      ],
    });
    expect(w.dependencyIds()).toEqual({ secrets: ["sec1"], configs: ["cfg1"] });
    await expect.poll(() => sink.last(task.id)?.state).toBe(TaskState.RUNNING);
    const files = fake.files.get(task.id)!;
    expect(files.map((f) => [f.kind, f.target, Buffer.from(f.data).toString(), f.mode.toString(8)])).toEqual([
      ["secret", "/run/secrets/db_password", SECRET_BYTES, "444"],
      ["config", "/app.conf", CONFIG_BYTES, "444"],
    ]);

    // The task goes, then the secret and config: only the ids come with a REMOVE.
    await w.apply({
      type: AssignmentsType.INCREMENTAL,
      appliesTo: "set1",
      resultsIn: "set2",
      changes: [
        change(REMOVE, { task }),
        change(REMOVE, { secret: Secret.fromPartial({ id: "sec1" }) }),
        change(REMOVE, { config: Config.fromPartial({ id: "cfg1" }) }),
      ],
    });
    expect(w.dependencyIds()).toEqual({ secrets: [], configs: [] });
    await expect.poll(() => fake.containers.has(task.id)).toBe(false);
  });

  it("adds secrets with incremental changes, and a later full set replaces them all", async () => {
    const fake = new FakeExecutor();
    const { w } = worker(fake);
    await w.apply({ type: AssignmentsType.COMPLETE, appliesTo: "", resultsIn: "a", changes: [] });
    await w.apply({
      type: AssignmentsType.INCREMENTAL,
      appliesTo: "a",
      resultsIn: "b",
      changes: [change(UPDATE, { secret: secret("s1", "one") }), change(UPDATE, { secret: secret("s2", "two") })],
    });
    expect(w.dependencyIds().secrets).toEqual(["s1", "s2"]);
    await w.apply({
      type: AssignmentsType.COMPLETE,
      appliesTo: "",
      resultsIn: "c",
      changes: [change(UPDATE, { secret: secret("s3", "three") }), change(UPDATE, { config: config("c1", "x") })],
    });
    expect(w.dependencyIds()).toEqual({ secrets: ["s3"], configs: ["c1"] });
  });

  it("rejects a task whose secret was never sent, naming the secret; tasks without secrets run", async () => {
    const fake = new FakeExecutor();
    const { w, sink } = worker(fake);
    const needy = usingTask(["nope1", "api_key"]);
    const plain = makeTask({ slot: 2 });
    await w.applyComplete([needy, plain], [change(UPDATE, { task: needy }), change(UPDATE, { task: plain })]);
    await expect.poll(() => sink.last(needy.id)?.state).toBe(TaskState.REJECTED);
    expect(sink.last(needy.id)?.err).toMatch(
      /secret "api_key" \(nope1, spec\.container\.secrets\[0\]\) is not on this node/,
    );
    await expect.poll(() => sink.last(plain.id)?.state).toBe(TaskState.RUNNING);
    expect(fake.containers.has(needy.id)).toBe(false);
  });

  it("writes no secret bytes to its logs", async () => {
    const fake = new FakeExecutor();
    const { w, sink, lines } = worker(fake);
    const task = usingTask(["sec1", "db_password"]);
    const failing = usingTask(["sec1", "db_password"]);
    fake.script(failing.id, { exitCode: 3 });
    await w.apply({
      type: AssignmentsType.COMPLETE,
      appliesTo: "",
      resultsIn: "s1",
      changes: [
        change(UPDATE, { secret: secret("sec1", "db_password") }),
        change(UPDATE, { task }),
        change(UPDATE, { task: failing }),
      ],
    });
    await expect.poll(() => sink.last(task.id)?.state).toBe(TaskState.RUNNING);
    await expect.poll(() => sink.last(failing.id)?.state).toBe(TaskState.FAILED);
    await w.apply({
      type: AssignmentsType.INCREMENTAL,
      appliesTo: "s1",
      resultsIn: "s2",
      changes: [change(REMOVE, { task }), change(REMOVE, { secret: Secret.fromPartial({ id: "sec1" }) })],
    });
    await expect.poll(() => fake.containers.has(task.id)).toBe(false);
    await w.stop();
    const log = lines.join("");
    // The logger did write (so the check below means something), and never the secret.
    expect(log).toContain("applied the full set of assignments");
    for (const form of encodings(SECRET_BYTES)) expect(log).not.toContain(form);
  });
});
