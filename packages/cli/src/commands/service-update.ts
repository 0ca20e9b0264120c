// shoal service update | rollback: read the service, send its next spec with the version read
// (a manager refuses a stale one as out of sequence), then follow the rollout unless --detach.
import type { Command } from "commander";
import { ErrorCode, InvalidArgumentError, ShoalError, isShoalError, type Service } from "@shoal/shared";
import { MANAGER_HELP, withControl, type Control } from "../client.js";
import { waitJobRun } from "../output/job.js";
import { followRollout } from "./follow-rollout.js";
import { addMountUpdateOptions } from "./mount-flags.js";
import { addScheduleOptions } from "./schedule-flags.js";
import { collect } from "./service-spec.js";
import { applySpecEdit, parseUpdateFlags, type UpdateFlags } from "./service-update-spec.js";
import { addTaskOptions, withNoHealthcheck } from "./task-flags.js";
import { addContainerOptions } from "./container-flags.js";
import { addGenericResourceOptions } from "./generic-resource-flags.js";
import { addSecretOptions } from "./secret-flags.js";
import { addNetworkOptions } from "./network-flags.js";
import { addUpdateConfigOptions } from "./update-config.js";

type Calls = Pick<Control, "call">;

export interface Output {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const STD: Output = { stdout: process.stdout, stderr: process.stderr };

/** A stale version is refused by the manager; say what that means and what to do. */
function explainConflict(err: unknown, ref: string, read: Service): unknown {
  if (!isShoalError(err) || err.code !== ErrorCode.SequenceConflict) return err;
  return new ShoalError(
    ErrorCode.SequenceConflict,
    `update out of sequence: service ${ref} changed since it was read (version ${read.meta?.version?.index ?? 0}); ` +
      `nothing was changed, run the command again (${err.message})`,
    { cause: err, details: { serviceId: read.id, version: read.meta?.version?.index ?? 0 } },
  );
}

async function send(
  control: Calls,
  ref: string,
  read: Service,
  rollback: boolean,
  flags: UpdateFlags,
): Promise<Service> {
  const spec = rollback ? undefined : applySpecEdit(read.spec!, parseUpdateFlags(flags));
  try {
    const { service } = await control.call("updateService", {
      serviceId: read.id,
      serviceVersion: read.meta?.version,
      spec,
      rollback,
    });
    return service!;
  } catch (err: unknown) {
    throw explainConflict(err, ref, read);
  }
}

const NOT_CHANGES = new Set(["detach", "manager", "rollback", "healthcheck", "noHealthcheck"]);

/** Whether any flag asks for a change of the spec. */
function changesSomething(flags: object): boolean {
  return (
    Object.entries(flags).some(
      ([k, v]) => !NOT_CHANGES.has(k) && v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0),
    ) || (flags as { noHealthcheck?: boolean }).noHealthcheck === true
  );
}

/** `service update`: every flag is checked before the manager is asked anything. */
export async function runServiceUpdate(
  control: Calls,
  ref: string,
  flags: UpdateFlags & { rollback?: boolean },
  out: Output = STD,
): Promise<void> {
  if (flags.rollback && changesSomething(flags)) {
    throw new InvalidArgumentError("cannot be combined with flags that change the spec", { field: "--rollback" });
  }
  if (!flags.rollback) parseUpdateFlags(flags);
  const { service: read } = await control.call("getService", { serviceId: ref });
  const updated = await send(control, ref, read!, flags.rollback === true, flags);
  out.stdout.write(`${ref}\n`);
  if (flags.detach) return;
  if (updated.jobStatus !== undefined) {
    // A job has no rollout: a change or --force started a new run, which is waited for.
    const iteration = updated.jobStatus.jobIteration?.index ?? 0;
    if (iteration !== (read!.jobStatus?.jobIteration?.index ?? 0))
      await waitJobRun(control, updated.id, iteration, out.stderr);
    return;
  }
  await followRollout(control, updated.id, {
    baseline: { status: read!.updateStatus, specVersion: read!.specVersion?.index ?? 0 },
    mode: flags.rollback ? "rollback" : "update",
    out: out.stderr,
  });
}

/** The flags of `service update` given none: commander's empty lists. */
export const EMPTY_UPDATE: UpdateFlags = {
  envAdd: [],
  envRm: [],
  labelAdd: [],
  labelRm: [],
  containerLabelAdd: [],
  containerLabelRm: [],
  constraintAdd: [],
  constraintRm: [],
  placementPrefAdd: [],
  placementPrefRm: [],
  publishAdd: [],
  publishRm: [],
};

export function registerServiceUpdateCommands(service: Command): void {
  const update = service
    .command("update")
    .description("update a service: its tasks are replaced in a rolling update, followed until done unless --detach")
    .argument("<service>", "service name, id or id prefix")
    .option("--image <image>", "the image to run")
    .option("--args <command>", "command and arguments for the container (split on spaces)")
    .option("--entrypoint <cmd>", "override the image's entrypoint")
    .option("--replicas <n>", "number of tasks (replicated), or of completions (replicated-job)")
    .option("--max-concurrent <n>", "tasks of a replicated job run at once")
    .option("--env-add <K=V>", "add or change an environment variable (repeatable)", collect, [])
    .option("--env-rm <K>", "remove an environment variable (repeatable)", collect, [])
    .option("--label-add <k=v>", "add or change a service label (repeatable)", collect, [])
    .option("--label-rm <k>", "remove a service label (repeatable)", collect, [])
    .option("--container-label-add <k=v>", "add or change a container label (repeatable)", collect, [])
    .option("--container-label-rm <k>", "remove a container label (repeatable)", collect, [])
    .option("--constraint-add <expr>", "add a placement constraint (repeatable)", collect, [])
    .option("--constraint-rm <expr>", "remove a placement constraint (repeatable)", collect, [])
    .option(
      "--placement-pref-add <pref>",
      "add spread=DESCRIPTOR, e.g. spread=node.labels.KEY (repeatable)",
      collect,
      [],
    )
    .option("--placement-pref-rm <pref>", "remove spread=DESCRIPTOR (repeatable)", collect, [])
    .option("--publish-add <port>", "publish PUBLISHED:TARGET[/tcp|udp] on the task's host (repeatable)", collect, [])
    .option("--publish-rm <target>", "unpublish the port with this TARGET[/tcp|udp] (repeatable)", collect, [])
    .option(
      "--rebalance <mode>",
      "manual (only on shoal service rebalance) or auto (also when a node becomes ready, after a cool-down)",
    );
  addTaskOptions(update);
  addContainerOptions(update, true);
  addGenericResourceOptions(update, "update");
  addMountUpdateOptions(update);
  addSecretOptions(update, "update");
  addNetworkOptions(update, "update");
  addScheduleOptions(update, true);
  addUpdateConfigOptions(update)
    .option("--force", "replace the tasks even if nothing changed (a job: run it again)")
    .option("--rollback", "go back to the previous spec (as shoal service rollback)")
    .option("-d, --detach", "return at once instead of following the rollout")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (ref: string, flags: UpdateFlags & { healthcheck?: boolean; rollback?: boolean }) => {
      await withControl(flags.manager, (c) => runServiceUpdate(c, ref, withNoHealthcheck(flags)));
    });

  service
    .command("rollback")
    .description("go back to the service's previous spec, with its rollback config; followed unless --detach")
    .argument("<service>", "service name, id or id prefix")
    .option("-d, --detach", "return at once instead of following the rollback")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (ref: string, flags: { detach?: boolean; manager?: string }) => {
      await withControl(flags.manager, (c) => runServiceUpdate(c, ref, { ...EMPTY_UPDATE, ...flags, rollback: true }));
    });
}
