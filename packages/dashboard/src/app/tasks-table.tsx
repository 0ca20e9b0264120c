// A table of tasks (a node's or a service's): state, health, node or service, error or message, since.
import type { ReadonlySignal } from "@preact/signals";
import { bytes, cpus, time } from "./format.js";
import { go } from "./router.js";
import { model } from "./state.js";
import { Cell, Row, VirtualTable, type Column } from "./virtual-table.js";

/** show: the column that tells where a task belongs (its node, or its service); selected: a task to mark. */
export function TasksTable({
  ids,
  show,
  selected,
}: {
  readonly ids: ReadonlySignal<readonly string[]>;
  readonly show: "node" | "service";
  readonly selected?: string | undefined;
}) {
  const columns: Column[] = [
    { title: "Task", width: "minmax(8rem, 1.5fr)" },
    { title: show === "node" ? "Node" : "Service", width: "minmax(6rem, 1fr)" },
    { title: "State", width: "7rem" },
    { title: "Desired", width: "6rem" },
    { title: "Health", width: "6rem" },
    { title: "Reserved", width: "9rem" },
    { title: "Error / message", width: "minmax(10rem, 2fr)" },
    { title: "Since", width: "11rem" },
  ];
  return (
    <VirtualTable
      testId="tasks-table"
      columns={columns}
      ids={ids}
      empty="No tasks."
      row={(id) => <TaskRow id={id} show={show} selected={id === selected} />}
    />
  );
}

function TaskRow({
  id,
  show,
  selected,
}: {
  readonly id: string;
  readonly show: "node" | "service";
  readonly selected: boolean;
}) {
  const task = model.tasks.row(id)?.value;
  if (!task) return <div class="row" />;
  const node = model.nodes.row(task.nodeId)?.value;
  const service = model.services.row(task.serviceId)?.value;
  const where = show === "node" ? (node?.hostname ?? task.nodeId) : (service?.name ?? task.serviceId);
  const reserved = task.reserved.nanoCpus || task.reserved.memoryBytes;
  return (
    <Row
      testId={`task-row-${task.id}`}
      data={{ name: task.name, state: task.state, node: node?.hostname ?? task.nodeId }}
      selected={selected}
      onOpen={() => go(`services/${task.serviceId}/${task.id}`)}
    >
      <Cell col="name">{task.name}</Cell>
      <Cell col={show}>{where}</Cell>
      <Cell col="state">
        <span class={`state ${task.state}`}>{task.state}</span>
      </Cell>
      <Cell col="desired">{task.desiredState}</Cell>
      <Cell col="health">{task.health}</Cell>
      <Cell col="reserved">
        {reserved ? `${cpus(task.reserved.nanoCpus)} CPU, ${bytes(task.reserved.memoryBytes)}` : ""}
      </Cell>
      <Cell col="message">{task.error ? <span class="error">{task.error}</span> : task.message}</Cell>
      <Cell col="since">{time(task.since)}</Cell>
    </Row>
  );
}
