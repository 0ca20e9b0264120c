// Placement constraints ("node.labels.zone==eu") and spread descriptors ("node.labels.rack"):
// parsed once, checked against a node's attributes. The Control API parses constraints to refuse
// bad specs (any spread descriptor is accepted, as by SwarmKit); the scheduler and the global
// orchestrator match nodes with them.
import {
  InvalidArgumentError,
  NodeRole,
  type Node,
  type PlacementPlatform,
  type PlacementPreference,
  type TaskSpec,
} from "@shoal/shared";

export type ConstraintOperator = "==" | "!=";

type NodeField = "id" | "hostname" | "role" | "os" | "arch";

/** What a constraint looks at. Labels are read from the node's spec, engine labels from its description. */
export type ConstraintAttribute =
  { readonly kind: NodeField } | { readonly kind: "label" | "engineLabel"; readonly label: string };

export interface Constraint {
  /** The expression as written. */
  readonly expr: string;
  /** The key as written, e.g. "node.labels.zone". */
  readonly key: string;
  readonly attribute: ConstraintAttribute;
  readonly operator: ConstraintOperator;
  /** The value to compare with; lower-cased for role, os and arch (compared case-insensitively). */
  readonly value: string;
}

/** A node label to spread over (placement preference `spread=node.labels.KEY`). */
export interface SpreadLabel {
  readonly descriptor: string;
  readonly source: "label" | "engineLabel";
  readonly label: string;
}

/** A node as constraints see it; role, os and arch lower-cased (arch also normalized: x86_64 -> amd64). */
export interface NodeAttributes {
  readonly id: string;
  readonly hostname: string;
  readonly role: "manager" | "worker";
  readonly os: string;
  readonly arch: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly engineLabels: Readonly<Record<string, string>>;
}

export const CONSTRAINTS_FIELD = "spec.task_template.placement.constraints";

const NODE_LABELS = "node.labels.";
const ENGINE_LABELS = "engine.labels.";
const KEYS = `node.id, node.hostname, node.role, node.platform.os, node.platform.arch, ${NODE_LABELS}KEY, ${ENGINE_LABELS}KEY`;
const FIXED: ReadonlyMap<string, NodeField> = new Map([
  ["node.id", "id"],
  ["node.hostname", "hostname"],
  ["node.role", "role"],
  ["node.platform.os", "os"],
  ["node.platform.arch", "arch"],
]);
const ROLES = new Set(["manager", "worker"]);
/** Characters that may not appear in keys (operators, quotes, spaces). */
const BAD_KEY = /[\s=!<>~"']/;

/**
 * Parses the constraints of a task template. Throws InvalidArgumentError naming the field
 * (`spec.task_template.placement.constraints[i]`) and what is wrong with it.
 */
export function parseConstraints(exprs: readonly string[], field: string = CONSTRAINTS_FIELD): Constraint[] {
  return exprs.map((expr, i) => parseConstraint(expr, `${field}[${i}]`));
}

/** Parses one constraint, `KEY==VALUE` or `KEY!=VALUE` (spaces allowed around the operator). */
export function parseConstraint(expr: string, field: string = CONSTRAINTS_FIELD): Constraint {
  const fail = (what: string): never => {
    throw new InvalidArgumentError(`${what} in constraint ${JSON.stringify(expr)}`, { field });
  };
  const eq = expr.indexOf("==");
  const ne = expr.indexOf("!=");
  const at = eq < 0 ? ne : ne < 0 ? eq : Math.min(eq, ne);
  if (at < 0) fail("missing operator (expected KEY==VALUE or KEY!=VALUE)");
  const operator = expr.slice(at, at + 2) as ConstraintOperator;
  const key = expr.slice(0, at).trim();
  const raw = expr.slice(at + 2).trim();
  if (key === "") fail("missing key");
  if (raw === "") fail("missing value");
  if (raw.includes("==") || raw.includes("!=")) fail("more than one operator");
  if (BAD_KEY.test(key)) fail(`invalid key ${JSON.stringify(key)}`);
  const attribute = parseKey(key, fail);
  let value = raw;
  if (attribute.kind === "role" || attribute.kind === "os" || attribute.kind === "arch") value = raw.toLowerCase();
  if (attribute.kind === "arch") value = normalizeArch(value);
  if (attribute.kind === "role" && !ROLES.has(value)) {
    fail(`invalid role ${JSON.stringify(raw)} (expected manager or worker)`);
  }
  return { expr, key, attribute, operator, value };
}

function parseKey(key: string, fail: (what: string) => never): ConstraintAttribute {
  const lower = key.toLowerCase();
  const fixed = FIXED.get(lower);
  if (fixed !== undefined) return { kind: fixed };
  for (const [prefix, kind] of [
    [NODE_LABELS, "label"],
    [ENGINE_LABELS, "engineLabel"],
  ] as const) {
    if (!lower.startsWith(prefix)) continue;
    const label = key.slice(prefix.length);
    if (label === "") fail(`missing label name after "${prefix}"`);
    return { kind, label };
  }
  return fail(`unknown key ${JSON.stringify(key)} (expected one of ${KEYS})`);
}

/** Whether `node` satisfies `c`. A missing label reads as "": `==` fails and `!=` holds. */
export function constraintMatches(c: Constraint, node: NodeAttributes): boolean {
  const a = c.attribute;
  let actual: string;
  switch (a.kind) {
    case "id":
      actual = node.id;
      break;
    case "hostname":
      actual = node.hostname;
      break;
    case "role":
      actual = node.role;
      break;
    case "os":
      actual = node.os;
      break;
    case "arch":
      actual = node.arch;
      break;
    case "label":
      actual = label(node.labels, a.label);
      break;
    case "engineLabel":
      actual = label(node.engineLabels, a.label);
      break;
  }
  return (actual === c.value) === (c.operator === "==");
}

/** Whether `node` satisfies every constraint. */
export function constraintsMatch(constraints: readonly Constraint[], node: NodeAttributes): boolean {
  for (const c of constraints) if (!constraintMatches(c, node)) return false;
  return true;
}

/** Whether a stored node satisfies every constraint (for the global orchestrator's eligible nodes). */
export function nodeMatchesConstraints(node: Node, constraints: readonly Constraint[]): boolean {
  return constraintsMatch(constraints, nodeAttributes(node));
}

/**
 * Whether a node is of one of `platforms` (placement.platforms; none: any node). An empty os or
 * architecture matches any; compared case-insensitively, architectures as Docker compares them
 * (x86_64 = amd64, aarch64 = arm64).
 */
export function platformsMatch(platforms: readonly PlacementPlatform[], node: NodeAttributes): boolean {
  if (platforms.length === 0) return true;
  return platforms.some((p) => {
    const os = p.os.toLowerCase();
    const arch = normalizeArch(p.architecture.toLowerCase());
    return (os === "" || os === node.os) && (arch === "" || arch === node.arch);
  });
}

/**
 * Whether a node satisfies the placement constraints and platforms of a task spec: the global
 * orchestrator's NodeMatcher (so a global service makes no task on a node of another platform,
 * where SwarmKit's would leave one pending). A spec whose constraints do not parse matches no node.
 */
export function nodeMatchesTaskSpec(node: Node, spec: TaskSpec | undefined): boolean {
  const platforms = spec?.placement?.platforms ?? [];
  if (platforms.length > 0 && !platformsMatch(platforms, nodeAttributes(node))) return false;
  const exprs = spec?.placement?.constraints ?? [];
  if (exprs.length === 0) return true;
  let constraints: Constraint[];
  try {
    constraints = parseConstraints(exprs);
  } catch {
    return false;
  }
  return nodeMatchesConstraints(node, constraints);
}

/** The attributes constraints look at, read from a stored node. */
export function nodeAttributes(node: Node): NodeAttributes {
  const platform = node.description?.platform;
  return {
    id: node.id,
    hostname: node.description?.hostname ?? "",
    role: node.role === NodeRole.MANAGER ? "manager" : "worker",
    os: (platform?.os ?? "").toLowerCase(),
    arch: normalizeArch((platform?.architecture ?? "").toLowerCase()),
    labels: node.spec?.annotations?.labels ?? {},
    engineLabels: node.description?.engine?.labels ?? {},
  };
}

/** Go's names for the usual aliases (Docker reports `x86_64` as well as `amd64`). */
function normalizeArch(arch: string): string {
  switch (arch) {
    case "x86_64":
    case "x86-64":
      return "amd64";
    case "aarch64":
      return "arm64";
    default:
      return arch;
  }
}

/**
 * The spread levels of a task template's placement preferences, outermost first. As SwarmKit's
 * scheduler: a preference that is not `spread`, or whose descriptor is not a label descriptor
 * (see parseSpreadDescriptor), adds no level, as if every node had the same value for it. So any
 * descriptor is accepted (SwarmKit's Control API checks none) and this never throws.
 */
export function parsePlacementPreferences(prefs: readonly PlacementPreference[]): SpreadLabel[] {
  const out: SpreadLabel[] = [];
  for (const pref of prefs) {
    if (pref.preference?.$case !== "spread") continue;
    const spread = parseSpreadDescriptor(pref.preference.value.spreadDescriptor);
    if (spread !== undefined) out.push(spread);
  }
  return out;
}

/**
 * `node.labels.KEY` or `engine.labels.KEY`: the prefix in any case, KEY as written (not trimmed,
 * not empty), as SwarmKit reads a spread descriptor. Any other descriptor: undefined.
 */
export function parseSpreadDescriptor(descriptor: string): SpreadLabel | undefined {
  for (const [prefix, source] of [
    [NODE_LABELS, "label"],
    [ENGINE_LABELS, "engineLabel"],
  ] as const) {
    if (descriptor.length > prefix.length && descriptor.slice(0, prefix.length).toLowerCase() === prefix) {
      return { descriptor, source, label: descriptor.slice(prefix.length) };
    }
  }
  return undefined;
}

/** The value of a spread label on a node; a node without the label is in the "" group. */
export function spreadValue(spread: SpreadLabel, node: NodeAttributes): string {
  return label(spread.source === "label" ? node.labels : node.engineLabels, spread.label);
}

/** A label's value, "" if missing (labels are plain objects: never read inherited keys). */
function label(labels: Readonly<Record<string, string>>, name: string): string {
  return Object.hasOwn(labels, name) ? (labels[name] ?? "") : "";
}
