import { describe, expect, it } from "vitest";
import { Task, TaskState, TaskStatus } from "@shoal/shared";
import { AgentMetrics, FakeExecutor, type StatusSink } from "@shoal/agent";

const value = async (m: AgentMetrics, line: string): Promise<number> => {
  const found = (await m.registry.metrics()).split("\n").find((l) => l.startsWith(line));
  return found === undefined ? NaN : Number(found.slice(found.lastIndexOf(" ") + 1));
};

describe("agent metrics", () => {
  it("counts container starts, tasks by reported state, failures and reconnects", async () => {
    const metrics = new AgentMetrics({ node_id: "n1" });
    const executor = metrics.executor(new FakeExecutor());
    const task = Task.fromPartial({
      id: "t1",
      serviceId: "s1",
      nodeId: "n1",
      spec: { container: { image: "shoal-base:1" } },
      desiredState: TaskState.RUNNING,
    });
    const controller = executor.controller(task);
    await controller.prepare();
    await controller.start();
    expect(await value(metrics, 'shoal_agent_container_starts_total{node_id="n1"}')).toBe(1);

    const reported: string[] = [];
    const sink = metrics.sink({ report: (id) => reported.push(id), forget: () => undefined } satisfies StatusSink);
    sink.report("t1", TaskStatus.fromPartial({ state: TaskState.RUNNING }));
    sink.report("t2", TaskStatus.fromPartial({ state: TaskState.FAILED }));
    sink.report("t2", TaskStatus.fromPartial({ state: TaskState.FAILED }));
    expect(reported).toEqual(["t1", "t2", "t2"]);
    expect(await value(metrics, 'shoal_agent_tasks{state="running",node_id="n1"}')).toBe(1);
    expect(await value(metrics, 'shoal_agent_task_failures_total{node_id="n1"}')).toBe(1);
    sink.forget("t2");
    expect(await value(metrics, 'shoal_agent_tasks{state="failed",node_id="n1"}')).toBeNaN();

    metrics.sessionStarted();
    metrics.sessionStarted();
    expect(await value(metrics, 'shoal_agent_session_reconnects_total{node_id="n1"}')).toBe(1);
  });
});
