// Docker's ServiceSpec has no rebalance field. A service's rebalance mode crosses the Docker API
// as a label, com.shoal.rebalance=auto|manual: shown on services with `rebalance: auto` (so
// `docker service inspect` tells, and the stock CLI sends it back on every update), read on
// create and update (`docker service update --label-add com.shoal.rebalance=auto` works), never
// stored as a label. An update without the label keeps the service's mode: a client that does not
// know about it cannot drop it.
import { InvalidArgumentError, RebalanceMode } from "@shoal/shared";

export const REBALANCE_LABEL = "com.shoal.rebalance";

/** The mode the labels ask for (the label is taken out of them), or undefined without the label. */
export function takeRebalanceLabel(labels: Record<string, string>): RebalanceMode | undefined {
  const value = labels[REBALANCE_LABEL];
  if (value === undefined) return undefined;
  delete labels[REBALANCE_LABEL];
  if (value === "auto") return RebalanceMode.AUTO;
  if (value === "manual") return RebalanceMode.MANUAL;
  throw new InvalidArgumentError(`"${value}" is not a rebalance mode: use auto or manual`, {
    field: `Labels.${REBALANCE_LABEL}`,
  });
}

/** The label that shows a service's rebalance mode (none for the default, manual). */
export function rebalanceLabels(mode: RebalanceMode | undefined): Record<string, string> {
  return mode === RebalanceMode.AUTO ? { [REBALANCE_LABEL]: "auto" } : {};
}
