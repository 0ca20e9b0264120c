// The filter chain, in the order a rejected node is blamed: the first filter that refuses a node
// names the reason. Static filters come first (asked once per node and task group), then the ones
// that placements change (asked again after each placement on a node).
import { AvailabilityFilter } from "./availability.js";
import { ConstraintFilter } from "./constraints.js";
import type { Filter } from "./filter.js";
import { GenericResourceFilter } from "./generic-resources.js";
import { HostPortFilter } from "./host-ports.js";
import { MaxReplicasFilter } from "./max-replicas.js";
import { NetworkDataPlaneFilter } from "./network-data-plane.js";
import { PlatformFilter } from "./platforms.js";
import { ReadyFilter } from "./ready.js";
import { ResourceFilter } from "./resources.js";

export type { Filter } from "./filter.js";
export {
  AvailabilityFilter,
  ConstraintFilter,
  GenericResourceFilter,
  HostPortFilter,
  MaxReplicasFilter,
  NetworkDataPlaneFilter,
  PlatformFilter,
  ReadyFilter,
  ResourceFilter,
};

/** A fresh chain (filters hold the task they were set to). */
export function defaultFilters(): Filter[] {
  return [
    new ReadyFilter(),
    new AvailabilityFilter(),
    new ConstraintFilter(),
    new PlatformFilter(),
    new NetworkDataPlaneFilter(),
    new ResourceFilter("cpu"),
    new ResourceFilter("memory"),
    new GenericResourceFilter(),
    new HostPortFilter(),
    new MaxReplicasFilter(),
  ];
}
