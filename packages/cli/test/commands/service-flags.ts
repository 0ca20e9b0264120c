// The flags `service create` and `service update` hand over when none is given (commander's
// defaults: empty lists), with `more` on top: what the command tests build their flags from.
import type { CreateFlags } from "../../src/commands/service-spec.js";
import { EMPTY_UPDATE } from "../../src/commands/service-update.js";
import type { UpdateFlags } from "../../src/commands/service-update-spec.js";

/** `service create --name web` (replicated), with `more`. */
export function createFlags(more: Partial<CreateFlags> = {}): CreateFlags {
  return {
    name: "web",
    mode: "replicated",
    env: [],
    label: [],
    containerLabel: [],
    constraint: [],
    placementPref: [],
    publish: [],
    ...more,
  };
}

/** `service update` with no flag, with `more`. */
export function updateFlags(more: Partial<UpdateFlags> = {}): UpdateFlags {
  return { ...EMPTY_UPDATE, ...more };
}
