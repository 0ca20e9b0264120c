// Which task container a container call names: a task id, a task name in each of its forms, a
// container id or a unique prefix; the slot's current task; ambiguity and absence.
import { ErrorCode, Service, Task, TaskState, type ShoalError } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { resolveContainer } from "../../src/containers/resolve-container.js";
import { MemoryStore } from "../../src/state/store/index.js";

const WEB = "svc-web";
const AGENT = "svc-agent";

function task(id: string, fields: Partial<Task> & { container?: string; createdAt?: number }): Task {
  const { container, createdAt, ...rest } = fields;
  return Task.fromPartial({
    id,
    nodeId: "node-1",
    desiredState: TaskState.RUNNING,
    ...rest,
    meta: { createdAt: new Date(createdAt ?? 1000) },
    status: {
      state: TaskState.RUNNING,
      ...(container !== undefined ? { containerStatus: { containerId: container, pid: 1, exitCode: 0 } } : {}),
    },
  });
}

async function store(): Promise<MemoryStore> {
  const s = new MemoryStore();
  await s.update((tx) => {
    tx.services.create(Service.fromPartial({ id: WEB, spec: { annotations: { name: "web" } } }));
    tx.services.create(Service.fromPartial({ id: AGENT, spec: { annotations: { name: "my.agent" } } }));
    const web = { serviceId: WEB, serviceAnnotations: { name: "web", labels: {} } };
    // Slot 1: an old task that shut down, and the current one.
    tx.tasks.create(
      task("t-old", { ...web, slot: 1, desiredState: TaskState.SHUTDOWN, container: "aa11", createdAt: 1 }),
    );
    tx.tasks.create(task("t-web1", { ...web, slot: 1, container: "ab12cd", createdAt: 2 }));
    tx.tasks.create(task("t-web2", { ...web, slot: 2, container: "ab99ef", nodeId: "node-2" }));
    // Slot 3: scheduled, no container yet.
    tx.tasks.create(task("t-web3", { ...web, slot: 3 }));
    // A global service whose name holds a dot: its tasks are named by node.
    const agent = { serviceId: AGENT, serviceAnnotations: { name: "my.agent", labels: {} } };
    tx.tasks.create(task("t-agent", { ...agent, slot: 0, nodeId: "node-2", container: "cc33" }));
  });
  return s;
}

const resolve = async (ref: string) => {
  const s = await store();
  return s.view((tx) => resolveContainer(tx, ref));
};

const failure = async (ref: string): Promise<ShoalError> => {
  try {
    await resolve(ref);
  } catch (err: unknown) {
    return err as ShoalError;
  }
  throw new Error(`${ref} resolved`);
};

describe("resolveContainer", () => {
  it("finds a container by task id, and says where it runs", async () => {
    expect(await resolve("t-web2")).toMatchObject({
      containerId: "ab99ef",
      nodeId: "node-2",
      serviceId: WEB,
      taskName: "web.2",
    });
  });

  it("finds a slot's current task by SERVICE.SLOT, and any task by SERVICE.SLOT.TASKID", async () => {
    expect((await resolve("web.1")).task.id).toBe("t-web1");
    expect((await resolve("web.1.t-old")).task.id).toBe("t-old");
    expect((await resolve("web.2.t-web2")).containerId).toBe("ab99ef");
  });

  it("finds a global task by SERVICE.NODEID and SERVICE.NODEID.TASKID, with dots in the service name", async () => {
    expect((await resolve("my.agent.node-2")).task.id).toBe("t-agent");
    expect((await resolve("my.agent.node-2.t-agent")).containerId).toBe("cc33");
  });

  it("finds a container by its id or a unique prefix", async () => {
    expect((await resolve("ab12cd")).task.id).toBe("t-web1");
    expect((await resolve("ab9")).task.id).toBe("t-web2");
    expect((await resolve("aa")).task.id).toBe("t-old");
  });

  it("refuses an ambiguous prefix, naming the candidates", async () => {
    const err = await failure("ab");
    expect(err.code).toBe(ErrorCode.InvalidArgument);
    expect(err.message).toMatch(/"ab" is the prefix of several containers: ab12cd \(web\.1\), ab99ef \(web\.2\)/);
  });

  it("answers NOT_FOUND for no match, a task with no container yet, and a wrong name", async () => {
    for (const ref of ["nope", "web.3", "t-web3", "web.9", "web.2.t-web1", "other.1", "dd"]) {
      const err = await failure(ref);
      expect(err.code, ref).toBe(ErrorCode.NotFound);
      expect(err.message).toBe(`no such container: ${ref}`);
    }
  });

  it("refuses an empty reference, naming the field", async () => {
    const err = await failure("");
    expect(err).toMatchObject({ code: ErrorCode.InvalidArgument, field: "open.container" });
  });
});
