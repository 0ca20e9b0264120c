// The scheduler's public surface, re-exported by name from the package's index.ts.
export { Scheduler, ASSIGNED_MESSAGE, PENDING_MESSAGE, type PassStats, type SchedulerOptions } from "./scheduler.js";
export { scheduleBatch, placeTasks, type ScheduleResult } from "./pipeline.js";
export {
  parseConstraint,
  parseConstraints,
  parsePlacementPreferences,
  parseSpreadDescriptor,
  constraintMatches,
  constraintsMatch,
  nodeMatchesConstraints,
  nodeMatchesTaskSpec,
  nodeAttributes,
  CONSTRAINTS_FIELD,
  type Constraint,
  type ConstraintAttribute,
  type ConstraintOperator,
  type NodeAttributes,
  type SpreadLabel,
} from "./constraints.js";
export { needsPlacement, occupancy, type Occupancy } from "./task-rules.js";
export { NodeSet } from "./node-set.js";
export { planRebalance, type RebalanceMove } from "./rebalance.js";
