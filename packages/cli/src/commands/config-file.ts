// Config files for `shoal manager` and `shoal agent` (`--config FILE`): a JSON object of the
// command's flags, keyed by the flag without its dashes (config-schema.ts):
//
//   { "data-dir": "/var/lib/shoal/manager", "listen": "0.0.0.0:4242", "log-level": "info" }
//
// Flags given on the command line win over the file; the file wins over defaults (and over the
// environment variables that give defaults, such as SHOAL_JOIN_TOKEN). The whole file is checked
// before the command runs: an unknown key, a value of the wrong type or a bad value fails with the
// file, the key and what was expected, and nothing starts.
//
// JSON because Node reads it without a dependency in the one-file release, it has no implicit
// typing (YAML's `off` or `0755`), `shoal init` and `shoal join` write it, and the keys are those
// of `--help`. No comments: `shoal manager --help` documents every key.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { ErrorCode, ShoalError } from "@shoal/shared";
import {
  checkValue,
  configSchema,
  didYouMean,
  type ConfigSchema,
  type ConfigValues,
  type ValueProblem,
} from "./config-schema.js";

export interface ConfigProblem {
  /** The key at fault; undefined when the file as a whole is (unreadable, not JSON). */
  readonly key?: string;
  readonly message: string;
}

export class ConfigFileError extends ShoalError {
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
    options: { cause?: unknown } = {},
  ) {
    super(
      ErrorCode.InvalidArgument,
      `config file ${file}: ` +
        (problems.length === 1
          ? line(problems[0]!)
          : `${problems.length} problems:\n${problems.map((p) => `  ${line(p)}`).join("\n")}`),
      { ...options, details: { file, keys: problems.flatMap((p) => (p.key === undefined ? [] : [p.key])) } },
    );
  }
}

function line(p: ConfigProblem): string {
  return p.key === undefined ? p.message : `"${p.key}": ${p.message}`;
}

/**
 * Parses and checks a config file's text against a command's keys. Returns the values as the
 * command line would give them; throws ConfigFileError naming every problem.
 */
export function parseConfig(text: string, file: string, schema: ConfigSchema): ConfigValues {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err: unknown) {
    throw new ConfigFileError(file, [{ message: `not valid JSON: ${jsonError(err, text)}` }], { cause: err });
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigFileError(file, [{ message: 'expected a JSON object of settings, e.g. {"log-level": "info"}' }]);
  }
  return checkConfig(data as Record<string, unknown>, file, schema);
}

/** Checks settings (from a file, or about to be written to one) against a command's keys. */
export function checkConfig(data: Readonly<Record<string, unknown>>, file: string, schema: ConfigSchema): ConfigValues {
  const values: Record<string, ConfigValues[string]> = {};
  const problems: ValueProblem[] = [];
  for (const [key, raw] of Object.entries(data)) {
    const spec = schema.get(key);
    if (spec === undefined) {
      const near = didYouMean(key, schema.keys());
      problems.push({
        key,
        message:
          `unknown key` +
          (near ? ` (did you mean "${near}"?)` : "") +
          `; the keys are the flags without dashes: ${[...schema.keys()].join(", ")}`,
      });
      continue;
    }
    const checked = checkValue(spec, raw, dirname(resolve(file)));
    if ("problem" in checked) problems.push(checked.problem);
    else values[key] = checked.value;
  }
  if (problems.length > 0) throw new ConfigFileError(file, problems);
  return values;
}

export async function readConfigFile(file: string, schema: ConfigSchema): Promise<ConfigValues> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err: unknown) {
    const code = (err as { code?: string }).code;
    throw new ConfigFileError(
      file,
      [{ message: code === "ENOENT" ? "no such file" : `cannot read it (${code ?? err})` }],
      {
        cause: err,
      },
    );
  }
  return parseConfig(text, file, schema);
}

/** The file's text for settings (already checked): keys in the order of `--help`, 2-space JSON. */
export function renderConfig(values: ConfigValues, schema: ConfigSchema): string {
  const ordered: Record<string, unknown> = {};
  for (const key of schema.keys()) if (values[key] !== undefined) ordered[key] = values[key];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** "Unexpected token } in JSON at position 42" with the line and column of position 42. */
function jsonError(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = /at position (\d+)/.exec(message);
  if (at === null || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(at[1]));
  const lineNo = before.split("\n").length;
  const column = Number(at[1]) - before.lastIndexOf("\n");
  return `${message} (line ${lineNo}, column ${column})`;
}

/** The long flags given on a command line (`--x`, `--x=v`, `--no-x` as "x"), up to a lone `--`. */
export function flagsGiven(args: readonly string[]): { keys: Set<string>; config: string | undefined } {
  const keys = new Set<string>();
  let config: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") break;
    const m = /^--(?:no-)?([^=]+)(=(.*))?$/.exec(arg);
    if (m === null) continue;
    keys.add(m[1]!);
    if (m[1] === "config") config = m[2] !== undefined ? m[3] : args[i + 1];
  }
  return { keys, config };
}

export const CONFIG_HELP = "read settings from this JSON file (keys: the flags without --); flags given here win";

/**
 * Gives the named subcommands of `program` a `--config FILE` option. The file is read and
 * checked before commander parses the subcommand's flags, so that it may hold required ones
 * (--data-dir); a flag on the command line replaces the file's value, lists (--label) included.
 */
export function enableConfigFiles(program: Command, names: readonly string[]): void {
  for (const name of names) {
    const command = program.commands.find((c) => c.name() === name);
    if (command === undefined) throw new Error(`no command ${name}`);
    command.option("--config <file>", CONFIG_HELP);
  }
  program.hook("preSubcommand", async (_program, sub) => {
    if (!names.includes(sub.name())) return;
    // enablePositionalOptions: the program's args are the subcommand's name, then its own.
    const { keys, config } = flagsGiven(program.args.slice(1));
    if (config === undefined) return;
    await applyConfigFile(sub, config, keys);
  });
}

/** Reads `file` and sets each of its values on `command` unless the command line gave that flag. */
export async function applyConfigFile(command: Command, file: string, given: ReadonlySet<string>): Promise<void> {
  const schema = configSchema(command);
  const values = await readConfigFile(file, schema);
  for (const [key, value] of Object.entries(values)) {
    if (given.has(key)) continue;
    command.setOptionValueWithSource(schema.get(key)!.attribute, value, "config");
  }
}
