// The nodes table, and a node's page: its tasks, and Drain / Pause / Activate.
import { api } from "./http.js";
import { confirmAction } from "./dialog.js";
import { bytes, cpus } from "./format.js";
import { go } from "./router.js";
import { model } from "./state.js";
import { TasksTable } from "./tasks-table.js";
import { Cell, Row, VirtualTable, type Column } from "./virtual-table.js";

const COLUMNS: Column[] = [
  { title: "Hostname", width: "minmax(8rem, 2fr)" },
  { title: "Role", width: "6rem" },
  { title: "Status", width: "7rem" },
  { title: "Availability", width: "7rem" },
  { title: "Manager", width: "7rem" },
  { title: "CPU reserved / total", width: "10rem" },
  { title: "Memory reserved / total", width: "13rem" },
  { title: "Tasks", width: "5rem" },
];

export function NodesPage() {
  return (
    <section class="page">
      <h1>
        Nodes <span class="count">{model.nodes.ids.value.length}</span>
      </h1>
      <VirtualTable testId="nodes-table" columns={COLUMNS} ids={model.nodes.ids} row={(id) => <NodeRow id={id} />} />
    </section>
  );
}

function NodeRow({ id }: { readonly id: string }) {
  const node = model.nodes.row(id)?.value;
  const usage = model.nodeUsage(id).value;
  if (!node) return <div class="row" />;
  return (
    <Row
      testId={`node-row-${node.hostname}`}
      onOpen={() => go(`nodes/${node.id}`)}
      data={{ status: node.status, availability: node.availability }}
    >
      <Cell col="hostname">{node.hostname}</Cell>
      <Cell col="role">{node.role}</Cell>
      <Cell col="status">
        <span class={`state ${node.status}`}>{node.status}</span>
      </Cell>
      <Cell col="availability">{node.availability}</Cell>
      <Cell col="manager">{node.managerStatus}</Cell>
      <Cell col="cpu">{`${cpus(usage.nanoCpus)} / ${cpus(node.resources.nanoCpus)}`}</Cell>
      <Cell col="memory">{`${bytes(usage.memoryBytes)} / ${bytes(node.resources.memoryBytes)}`}</Cell>
      <Cell col="tasks">{usage.tasks}</Cell>
    </Row>
  );
}

const AVAILABILITY = [
  { value: "drain", label: "Drain", text: "Its tasks stop here and are scheduled on other nodes." },
  { value: "pause", label: "Pause", text: "No new tasks are scheduled here; its tasks keep running." },
  { value: "active", label: "Activate", text: "New tasks may be scheduled here again." },
] as const;

export function NodePage({ id }: { readonly id: string }) {
  const node = model.nodes.row(id)?.value;
  if (!node) return <NotFound what="node" id={id} />;
  const usage = model.nodeUsage(id).value;
  return (
    <section class="page" data-testid="node-page">
      <h1>
        <a href="#/nodes">Nodes</a> / {node.hostname}
      </h1>
      <dl class="facts">
        <dt>Role</dt>
        <dd>{node.role}</dd>
        <dt>Status</dt>
        <dd data-testid="node-status">{node.status}</dd>
        <dt>Availability</dt>
        <dd data-testid="node-availability">{node.availability}</dd>
        <dt>Address</dt>
        <dd>{node.addr}</dd>
        <dt>Engine</dt>
        <dd>{node.engineVersion}</dd>
        <dt>Reserved</dt>
        <dd>
          {`${cpus(usage.nanoCpus)} of ${cpus(node.resources.nanoCpus)} CPU, `}
          {`${bytes(usage.memoryBytes)} of ${bytes(node.resources.memoryBytes)}`}
        </dd>
      </dl>
      <div class="actions">
        {AVAILABILITY.map((action) => (
          <button
            type="button"
            key={action.value}
            data-testid={`${action.value === "active" ? "activate" : action.value}-button`}
            disabled={node.availability === action.value}
            onClick={() =>
              confirmAction(`${action.label} ${node.hostname}?`, action.text, () =>
                api.post(`/api/v1/nodes/${encodeURIComponent(node.id)}/availability`, {
                  availability: action.value,
                }),
              )
            }
          >
            {action.label}
          </button>
        ))}
      </div>
      <h2>Tasks</h2>
      <TasksTable ids={model.nodeTasks(id)} show="service" />
    </section>
  );
}

export function NotFound({ what, id }: { readonly what: string; readonly id: string }) {
  return (
    <section class="page">
      <p class="error" data-testid="not-found">{`No ${what} ${id} (it may have been removed).`}</p>
    </section>
  );
}
