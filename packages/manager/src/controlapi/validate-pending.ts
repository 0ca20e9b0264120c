// Fields of the task spec that the proto carries but that no agent acts on yet: refused, with the
// field named, until the code honouring each one lands (then its line goes). What Shoal accepts,
// it acts on.
import { InvalidArgumentError, type TaskSpec } from "@shoal/shared";

const C = "spec.task_template.container";

/** Throws InvalidArgumentError for the first not-yet-honoured field that is set. */
export function refusePendingFields(t: TaskSpec | undefined): void {
  const c = t?.container;
  const pending: [boolean, string][] = [
    // secrets and configs
    [(c?.secrets.length ?? 0) > 0, `${C}.secrets`],
    [(c?.configs.length ?? 0) > 0, `${C}.configs`],
  ];
  for (const [set, field] of pending) {
    if (set) throw new InvalidArgumentError("is not supported by Shoal yet", { field });
  }
}
