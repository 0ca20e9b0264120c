// Generic resources on the command line, with the docker CLI's words: `shoal agent
// --generic-resource gpu=GPU-1a2b` (what a node advertises, as dockerd's
// --node-generic-resource), `shoal service create --generic-resource gpu=1` and `service update
// --generic-resource-add gpu=2 --generic-resource-rm gpu` (what each task reserves: counts only).
import type { Command } from "commander";
import {
  InvalidArgumentError,
  TaskSpec,
  parseGenericResources,
  resourceKind,
  type GenericResource,
  type Resources,
} from "@shoal/shared";

/** commander's argument parser for `shoal agent --generic-resource`: checks the list so far. */
export function collectGenericResource(value: string, previous: string[]): string[] {
  const all = [...previous, value];
  parseGenericResources(all, "--generic-resource");
  return all;
}

export interface GenericResourceFlags {
  genericResource?: string[];
  genericResourceAdd?: string[];
  genericResourceRm?: string[];
}

/** What a create or an update does to a task's generic reservations. */
export interface GenericResourceEdit {
  /** Counts to set, by kind (create: all of them). */
  readonly add: readonly GenericResource[];
  /** Kinds to remove (update). */
  readonly rm: readonly string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `--generic-resource` on create; `--generic-resource-add` and `-rm` on update. */
export function addGenericResourceOptions(cmd: Command, kind: "create" | "update"): Command {
  if (kind === "create") {
    return cmd.option(
      "--generic-resource <kind=n>",
      "reserve N of a generic resource per task, e.g. gpu=1 (repeatable)",
      collect,
      [],
    );
  }
  return cmd
    .option(
      "--generic-resource-add <kind=n>",
      "reserve N of a generic resource per task, e.g. gpu=1 (repeatable)",
      collect,
      [],
    )
    .option("--generic-resource-rm <kind>", "stop reserving a generic resource (repeatable)", collect, []);
}

/** Counts per kind, as the docker CLI takes them: a named unit cannot be asked for, nor a kind twice. */
function counts(values: readonly string[], flag: string): GenericResource[] {
  const kinds = new Set<string>();
  for (const v of values) {
    const kind = v.split("=", 1)[0]!.trim();
    if (kinds.has(kind)) throw new InvalidArgumentError(`generic resource "${kind}" given twice`, { field: flag });
    kinds.add(kind);
  }
  const out = parseGenericResources(values, flag);
  for (const r of out) {
    if (r.resource?.$case === "named") {
      throw new InvalidArgumentError(
        `"${r.resource.value.kind}=${r.resource.value.value}": a service reserves a count (KIND=N), not a named unit`,
        { field: flag },
      );
    }
    if (r.resource?.value.value === 0) {
      throw new InvalidArgumentError(`"${resourceKind(r)}=0": the count must be 1 or more`, { field: flag });
    }
  }
  return out;
}

/** Checks the flags (before any manager is asked); undefined when none is given. */
export function parseGenericResourceFlags(flags: GenericResourceFlags): GenericResourceEdit | undefined {
  const create = flags.genericResource ?? [];
  const add = flags.genericResourceAdd ?? [];
  const rm = flags.genericResourceRm ?? [];
  if (create.length + add.length + rm.length === 0) return undefined;
  for (const kind of rm) {
    if (kind === "" || kind.includes("=")) {
      throw new InvalidArgumentError(`"${kind}" is not a resource kind`, { field: "--generic-resource-rm" });
    }
  }
  return {
    add: create.length > 0 ? counts(create, "--generic-resource") : counts(add, "--generic-resource-add"),
    rm: [...rm],
  };
}

const NO_RESOURCES: Resources = { nanoCpus: 0, memoryBytes: 0, pids: 0, generic: [] };

/**
 * The template with the edit applied (neither is changed): removed kinds go (one that is not
 * reserved is an error, as the docker CLI says), added ones replace the count of their kind in
 * place or come last.
 */
export function applyGenericResourceEdit(template: TaskSpec, edit: GenericResourceEdit | undefined): TaskSpec {
  if (edit === undefined) return template;
  const out = TaskSpec.fromPartial(template);
  const resources = (out.resources ??= { limits: undefined, reservations: undefined });
  const reservations = (resources.reservations ??= { ...NO_RESOURCES, generic: [] });
  let generic = reservations.generic;
  for (const kind of edit.rm) {
    if (!generic.some((r) => resourceKind(r) === kind)) {
      throw new InvalidArgumentError(`the service reserves no generic resource "${kind}"`, {
        field: "--generic-resource-rm",
      });
    }
    generic = generic.filter((r) => resourceKind(r) !== kind);
  }
  for (const r of edit.add) {
    const at = generic.findIndex((g) => resourceKind(g) === resourceKind(r));
    generic = at < 0 ? [...generic, r] : generic.map((g, i) => (i === at ? r : g));
  }
  reservations.generic = generic;
  return out;
}
