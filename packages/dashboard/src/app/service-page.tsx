// A service's page: what it is, its rollout, its tasks live, its logs following, its tasks'
// stats, and Scale / Update image / Rollback / Remove.
import { useComputed, useSignal } from "@preact/signals";
import { api } from "./http.js";
import { confirmAction } from "./dialog.js";
import { time } from "./format.js";
import { NotFound } from "./nodes.js";
import { go } from "./router.js";
import { model } from "./state.js";
import { Logs, Stats } from "./streams.js";
import { TasksTable } from "./tasks-table.js";

export function ServicePage({ id, task }: { readonly id: string; readonly task?: string | undefined }) {
  const service = model.services.row(id)?.value;
  const replicas = model.serviceReplicas(id).value;
  const scaleTo = useSignal("");
  const image = useSignal("");
  // The server samples the tasks that run when the stats stream opens: reopen it when they change.
  const running = useComputed(() =>
    model
      .serviceTasks(id)
      .value.filter((taskId) => model.tasks.row(taskId)?.value.state === "running")
      .join(","),
  );
  if (!service) return <NotFound what="service" id={id} />;
  const path = `/api/v1/services/${encodeURIComponent(service.id)}`;
  // Logs and stats of the task picked in the table, or of the whole service.
  const picked = task === undefined ? undefined : model.tasks.row(task)?.value;
  const streams = picked ? `/api/v1/tasks/${encodeURIComponent(picked.id)}` : path;
  const update = service.updateStatus;

  const scale = () => {
    const replicas = Number(scaleTo.value);
    confirmAction(`Scale ${service.name} to ${scaleTo.value} replicas?`, "Tasks start or stop to match.", () =>
      api.post(`${path}/scale`, { replicas: Number.isInteger(replicas) ? replicas : scaleTo.value }),
    );
  };
  const updateImage = () =>
    confirmAction(
      `Update ${service.name} to ${image.value}?`,
      "A rolling update replaces its tasks with the new image.",
      () => api.post(`${path}/image`, { image: image.value }),
    );
  const rollback = () =>
    confirmAction(`Roll back ${service.name}?`, "Its previous definition is restored by a rolling update.", () =>
      api.post(`${path}/rollback`, {}),
    );
  const remove = () =>
    confirmAction(`Remove ${service.name}?`, "The service and all its tasks are removed.", async () => {
      await api.delete(path);
      go("services");
    });

  return (
    <section class="page service-page" data-testid="service-page">
      <h1>
        <a href="#/services">Services</a> / {service.name}
      </h1>
      <dl class="facts">
        <dt>Image</dt>
        <dd data-testid="service-image">{service.image}</dd>
        <dt>Mode</dt>
        <dd>{service.mode}</dd>
        <dt>Replicas</dt>
        <dd data-testid="service-replicas">{`${replicas.running}/${replicas.desired}`}</dd>
        <dt>Ports</dt>
        <dd>{service.ports.join(", ") || "none"}</dd>
        <dt>Update</dt>
        <dd data-testid="update-status">
          {update ? `${update.state}${update.message ? `: ${update.message}` : ""}` : "none"}
        </dd>
        <dt>Updated</dt>
        <dd>{time(service.updatedAt)}</dd>
      </dl>
      <div class="actions">
        {service.replicas !== undefined && (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              scale();
            }}
          >
            <input
              data-testid="scale-input"
              type="number"
              min="0"
              placeholder={String(service.replicas)}
              value={scaleTo.value}
              onInput={(event) => (scaleTo.value = event.currentTarget.value)}
            />
            <button type="submit" data-testid="scale-button" disabled={scaleTo.value === ""}>
              Scale
            </button>
          </form>
        )}
        <form
          onSubmit={(event) => {
            event.preventDefault();
            updateImage();
          }}
        >
          <input
            data-testid="image-input"
            placeholder={service.image}
            value={image.value}
            onInput={(event) => (image.value = event.currentTarget.value)}
          />
          <button type="submit" data-testid="update-image-button" disabled={image.value.trim() === ""}>
            Update image
          </button>
        </form>
        <button type="button" data-testid="rollback-button" onClick={rollback}>
          Rollback
        </button>
        <button type="button" class="danger" data-testid="remove-button" onClick={remove}>
          Remove
        </button>
      </div>
      <h2>Tasks</h2>
      <TasksTable ids={model.serviceTasks(id)} show="node" selected={picked?.id} />
      <div class="panes">
        <div>
          <h2 data-testid="logs-title">
            {picked ? `Logs of ${picked.name} ` : "Logs "}
            {picked && (
              <a href={`#/services/${encodeURIComponent(service.id)}`} data-testid="all-tasks">
                (all tasks)
              </a>
            )}
          </h2>
          <Logs key={streams} path={`${streams}/logs?follow=1&tail=100`} />
        </div>
        <div>
          <h2>Stats</h2>
          <Stats key={picked ? streams : `${streams}#${running.value}`} path={`${streams}/stats`} />
        </div>
      </div>
    </section>
  );
}
