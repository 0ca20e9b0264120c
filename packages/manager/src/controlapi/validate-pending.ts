// Fields of the task spec that the proto carries but that no agent acts on yet: refused, with the
// field named, until the code honouring each one lands (then its line goes). What Shoal accepts,
// it acts on.
import { InvalidArgumentError, type TaskSpec } from "@shoal/shared";

const C = "spec.task_template.container";

/** Throws InvalidArgumentError for the first not-yet-honoured field that is set. */
export function refusePendingFields(t: TaskSpec | undefined): void {
  const c = t?.container;
  const pending: [boolean, string][] = [
    // container spec (the rest of Docker's)
    [(c?.hostname ?? "") !== "", `${C}.hostname`],
    [(c?.groups.length ?? 0) > 0, `${C}.groups`],
    [c?.tty === true, `${C}.tty`],
    [c?.openStdin === true, `${C}.open_stdin`],
    [c?.readOnly === true, `${C}.read_only`],
    [c?.init !== undefined, `${C}.init`],
    [(c?.capabilityAdd.length ?? 0) > 0, `${C}.capability_add`],
    [(c?.capabilityDrop.length ?? 0) > 0, `${C}.capability_drop`],
    [Object.keys(c?.sysctls ?? {}).length > 0, `${C}.sysctls`],
    [(c?.ulimits.length ?? 0) > 0, `${C}.ulimits`],
    [(c?.hosts.length ?? 0) > 0, `${C}.hosts`],
    [c?.dnsConfig !== undefined, `${C}.dns_config`],
    [(c?.isolation ?? "") !== "", `${C}.isolation`],
    [t?.logDriver !== undefined, "spec.task_template.log_driver"],
    [(t?.resources?.limits?.pids ?? 0) !== 0, "spec.task_template.resources.limits.pids"],
    [(t?.resources?.reservations?.pids ?? 0) !== 0, "spec.task_template.resources.reservations.pids"],
  ];
  for (const [set, field] of pending) {
    if (set) throw new InvalidArgumentError("is not supported by Shoal yet", { field });
  }
}
