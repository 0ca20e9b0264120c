// The keys a daemon's config file may hold, derived from the command's own option definitions: one
// key per long flag, named as the flag without its dashes (`--data-dir` -> "data-dir"), so that a
// flag added to `shoal manager` or `shoal agent` is a config key at once, with no code here.
//
// What a key takes follows from the option: a flag without a value is a boolean; a flag whose
// default is a list (repeatable, e.g. --label) is a list of strings; any other is a string (a JSON
// number is taken as its decimal text). The value's placeholder in the flag (`<addr>`, `<level>`,
// `<dir>`, ...) says how it is checked; see VALUE_KINDS.
import { isAbsolute, resolve } from "node:path";
import type { Command, Option } from "commander";
import { LOG_LEVELS, isLogLevel } from "@shoal/shared";

export type ConfigValue = string | boolean | readonly string[];
export type ConfigValues = Readonly<Record<string, ConfigValue>>;

export interface ConfigKey {
  /** The key in the file: the long flag without "--" (or "--no-"). */
  readonly key: string;
  /** The flag as `--help` shows it, e.g. "--data-dir <dir>". */
  readonly flags: string;
  /** Where commander keeps the value (`opts().dataDir`). */
  readonly attribute: string;
  readonly type: "boolean" | "string" | "list";
  /** The value's placeholder without brackets ("addr", "dir"); undefined for booleans. */
  readonly placeholder: string | undefined;
  readonly option: Option;
}

export type ConfigSchema = ReadonlyMap<string, ConfigKey>;

/** Options that are about reading the command line, not settings of the daemon. */
const NOT_CONFIG = new Set(["config", "help", "version"]);

export function configSchema(command: Command): ConfigSchema {
  const schema = new Map<string, ConfigKey>();
  for (const option of command.options) {
    if (option.long === undefined) continue;
    const key = option.long.replace(/^--(no-)?/, "");
    if (NOT_CONFIG.has(key) || schema.has(key)) continue;
    const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
    const type = option.isBoolean() || option.negate ? "boolean" : listDefault(option) ? "list" : "string";
    schema.set(key, { key, flags: option.flags, attribute: option.attributeName(), type, placeholder, option });
  }
  return schema;
}

function listDefault(option: Option): boolean {
  return option.variadic || Array.isArray(option.defaultValue);
}

const ADDR = /^(\[[0-9a-fA-F:]+\]|[^:\s,]+):(\d{1,5})$/;
const isAddr = (v: string): boolean => {
  const m = ADDR.exec(v);
  return m !== null && Number(m[2]) <= 65535;
};

interface ValueKind {
  /** What is expected, for the error message. */
  readonly expected: string;
  readonly check: (value: string) => boolean;
  /** A path is resolved against the config file's folder. */
  readonly path?: boolean;
}

/**
 * How a value is checked, by the placeholder its flag names. A new flag with one of these
 * placeholders is checked as well; one with another placeholder needs only a non-empty string.
 */
export const VALUE_KINDS: Readonly<Record<string, ValueKind>> = {
  addr: { expected: "a HOST:PORT address", check: isAddr },
  addrs: {
    expected: "HOST:PORT addresses (a list, or one string with commas)",
    check: (v) => v.split(",").every((a) => isAddr(a.trim())),
  },
  level: { expected: `a log level: ${LOG_LEVELS.join(", ")}`, check: isLogLevel },
  "k=v": { expected: 'KEY=VALUE pairs, e.g. ["zone=a"]', check: (v) => /^[^=\s]+=/.test(v) },
  url: {
    expected: "a URL such as unix:///var/run/docker.sock or tcp://HOST:PORT",
    check: (v) => /^[a-z][\w+.-]*:\/\//i.test(v),
  },
  token: { expected: "a join token (SWMTKN-1-...)", check: (v) => v.startsWith("SWMTKN-1-") },
  dir: { expected: "a folder", check: (v) => v !== "", path: true },
  file: { expected: "a file", check: (v) => v !== "", path: true },
};

export interface ValueProblem {
  readonly key: string;
  readonly message: string;
}

/**
 * Checks one value from a file against its key and returns it as the command line would have
 * given it (paths made absolute against `baseDir`, address lists joined with commas).
 */
export function checkValue(
  spec: ConfigKey,
  raw: unknown,
  baseDir: string,
): { value: ConfigValue } | { problem: ValueProblem } {
  const problem = (message: string): { problem: ValueProblem } => ({ problem: { key: spec.key, message } });
  const flagNote = `(as ${spec.flags} takes)`;
  if (spec.type === "boolean") {
    return typeof raw === "boolean" ? { value: raw } : problem(`expected true or false, not ${describe(raw)}`);
  }
  const kind = spec.placeholder === undefined ? undefined : VALUE_KINDS[spec.placeholder];
  if (spec.type === "list" || spec.placeholder === "addrs") {
    const items = spec.placeholder === "addrs" && typeof raw === "string" ? [raw] : raw;
    if (!Array.isArray(items) || items.some((i) => typeof i !== "string")) {
      return problem(`expected a list of strings ${flagNote}, not ${describe(raw)}`);
    }
    const strings = items as string[];
    const bad = strings.find((s) => !(kind?.check(s) ?? s !== ""));
    if (bad !== undefined) return problem(`${JSON.stringify(bad)} is not ${kind?.expected ?? "a value"} ${flagNote}`);
    if (spec.placeholder === "addrs") return { value: strings.join(",") };
    return parsed(spec, strings, problem);
  }
  const text = typeof raw === "number" && Number.isFinite(raw) ? String(raw) : raw;
  if (typeof text !== "string") return problem(`expected a string ${flagNote}, not ${describe(raw)}`);
  if (text === "") return problem(`is empty; leave the key out for the default ${flagNote}`);
  if (kind && !kind.check(text)) return problem(`${JSON.stringify(text)} is not ${kind.expected} ${flagNote}`);
  const choices = spec.option.argChoices;
  if (choices && !choices.includes(text)) {
    return problem(`${JSON.stringify(text)} is not one of ${choices.join(", ")} ${flagNote}`);
  }
  const value = kind?.path && !isAbsolute(text) ? resolve(baseDir, text) : text;
  return parsed(spec, value, problem);
}

/** Runs the option's own argument parser, if it has one, as commander would. */
function parsed(
  spec: ConfigKey,
  value: string | string[],
  problem: (message: string) => { problem: ValueProblem },
): { value: ConfigValue } | { problem: ValueProblem } {
  const parse = spec.option.parseArg as ((v: string, previous: unknown) => unknown) | undefined;
  if (parse === undefined) return { value };
  try {
    if (typeof value === "string") {
      const out = parse(value, undefined);
      return { value: typeof out === "string" ? out : value };
    }
    let acc: unknown = [];
    for (const item of value) acc = parse(item, acc);
    return { value: Array.isArray(acc) ? (acc as string[]) : value };
  } catch (err: unknown) {
    return problem(err instanceof Error ? err.message : String(err));
  }
}

function describe(raw: unknown): string {
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "a list";
  if (typeof raw === "object") return "an object";
  return `${typeof raw} ${JSON.stringify(raw)}`;
}

/** The known key closest to `key`, if close enough to be a likely typo (or camelCase of it). */
export function didYouMean(key: string, known: Iterable<string>): string | undefined {
  const kebab = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/_/g, "-");
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    if (candidate === kebab) return candidate;
    const distance = editDistance(kebab, candidate);
    if (best === undefined || distance < best.distance) best = { key: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(kebab.length / 3)) ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}
