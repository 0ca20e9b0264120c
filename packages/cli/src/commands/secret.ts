// shoal secret|config create | ls | inspect | rm. A secret's data is sent once, at creation, and
// never shown again (no manager returns it); a config's is shown by inspect, as docker does.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { Config, InvalidArgumentError, Secret, shortId } from "@shoal/shared";
import { MANAGER_HELP, withControl, type Control } from "../client.js";
import { formatTable } from "../output/table.js";
import { collect, keyValues } from "./service-spec.js";

export type ObjectKind = "secret" | "config";

/** One secret or config as `ls --json` prints it: a stable contract. */
export interface SecretJson {
  id: string;
  name: string;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export function secretJson(obj: Secret | Config): SecretJson {
  return {
    id: obj.id,
    name: obj.spec?.annotations?.name ?? "",
    labels: { ...(obj.spec?.annotations?.labels ?? {}) },
    createdAt: obj.meta?.createdAt?.toISOString() ?? "",
    updatedAt: obj.meta?.updatedAt?.toISOString() ?? "",
  };
}

export function secretTable(list: readonly (Secret | Config)[]): string {
  const rows = list.map((o) => {
    const j = secretJson(o);
    return [shortId(j.id), j.name, j.createdAt, j.updatedAt];
  });
  return formatTable(["ID", "NAME", "CREATED", "UPDATED"], rows);
}

/** `inspect --pretty`, as docker's: the fields one a line; a config's data after them. */
export function secretPretty(kind: ObjectKind, obj: Secret | Config): string {
  const j = secretJson(obj);
  const lines = [`ID:              ${j.id}`, `Name:            ${j.name}`];
  const labels = Object.entries(j.labels);
  if (labels.length > 0) lines.push("Labels:", ...labels.map(([k, v]) => ` - ${k}=${v}`));
  lines.push(`Created at:      ${j.createdAt}`, `Updated at:      ${j.updatedAt}`);
  if (kind === "config") lines.push("Data:", Buffer.from(obj.spec?.data ?? new Uint8Array()).toString("utf8"));
  return `${lines.join("\n")}\n`;
}

/** `--filter name=..|id=..|label=k[=v]` as the Control API's filters. */
export function listFilters(values: readonly string[]): {
  names: string[];
  namePrefixes: string[];
  idPrefixes: string[];
  labels: Record<string, string>;
} {
  const out = {
    names: [] as string[],
    namePrefixes: [] as string[],
    idPrefixes: [] as string[],
    labels: {} as Record<string, string>,
  };
  for (const f of values) {
    const eq = f.indexOf("=");
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    if (eq === -1 || value === "") throw new InvalidArgumentError(`"${f}" is not KEY=VALUE`, { field: "--filter" });
    if (key === "name") out.namePrefixes.push(value);
    else if (key === "id") out.idPrefixes.push(value);
    else if (key === "label") {
      const at = value.indexOf("=");
      if (at === -1) out.labels[value] = "";
      else out.labels[value.slice(0, at)] = value.slice(at + 1);
    } else throw new InvalidArgumentError(`unknown filter "${key}" (name, id, label)`, { field: "--filter" });
  }
  return out;
}

async function readData(file: string): Promise<Uint8Array> {
  if (file !== "-") return readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function getOne(c: Control, kind: ObjectKind, ref: string): Promise<Secret | Config> {
  return kind === "secret"
    ? (await c.call("getSecret", { secretId: ref })).secret!
    : (await c.call("getConfig", { configId: ref })).config!;
}

function register(program: Command, kind: ObjectKind): void {
  const cmd = program
    .command(kind)
    .description(kind === "secret" ? "manage secrets (their data is never shown)" : "manage configs");
  cmd
    .command("create")
    .description(`create a ${kind} from a file, or from stdin with -`)
    .argument("<name>", `the ${kind}'s name`)
    .argument("<file>", "file with the data, or - for stdin")
    .option("-l, --label <k=v>", "label (repeatable)", collect, [])
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (name: string, file: string, opts: { label: string[]; manager?: string }) => {
      const labels = keyValues(opts.label, "--label");
      const data = await readData(file);
      const spec = { annotations: { name, labels }, data };
      const id = await withControl(opts.manager, async (c) =>
        kind === "secret"
          ? (await c.call("createSecret", { spec })).secret!.id
          : (await c.call("createConfig", { spec })).config!.id,
      );
      process.stdout.write(`${id}\n`);
    });
  cmd
    .command("ls")
    .description(`list ${kind}s`)
    .option("-f, --filter <k=v>", "name=PREFIX, id=PREFIX or label=KEY[=VALUE] (repeatable)", collect, [])
    .option("-q, --quiet", "print only ids")
    .option("--json", `print the ${kind}s as JSON`)
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (opts: { filter: string[]; quiet?: boolean; json?: boolean; manager?: string }) => {
      const filters = listFilters(opts.filter);
      const list = await withControl(opts.manager, async (c) =>
        kind === "secret"
          ? (await c.call("listSecrets", { filters })).secrets
          : (await c.call("listConfigs", { filters })).configs,
      );
      if (opts.json) process.stdout.write(`${JSON.stringify(list.map(secretJson), null, 2)}\n`);
      else if (opts.quiet) process.stdout.write(list.map((o) => `${o.id}\n`).join(""));
      else process.stdout.write(secretTable(list));
    });
  cmd
    .command("inspect")
    .description(kind === "secret" ? "show secrets (without their data)" : "show configs, with their data")
    .argument(`<${kind}...>`, `${kind} name, id or id prefix`)
    .option("--pretty", "print in a human-friendly format")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], opts: { pretty?: boolean; manager?: string }) => {
      const list = await withControl(opts.manager, async (c) => {
        const out: (Secret | Config)[] = [];
        for (const ref of refs) out.push(await getOne(c, kind, ref));
        return out;
      });
      if (opts.pretty) process.stdout.write(list.map((o) => secretPretty(kind, o)).join("\n"));
      else {
        const json = list.map((o) => (kind === "secret" ? Secret.toJSON(o) : Config.toJSON(o)));
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      }
    });
  cmd
    .command("rm")
    .description(`remove ${kind}s (refused while a service uses one)`)
    .argument(`<${kind}...>`, `${kind} name, id or id prefix`)
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], opts: { manager?: string }) => {
      await withControl(opts.manager, async (c) => {
        for (const ref of refs) {
          if (kind === "secret") await c.call("removeSecret", { secretId: ref });
          else await c.call("removeConfig", { configId: ref });
          process.stdout.write(`${ref}\n`);
        }
      });
    });
}

export function registerSecretCommands(program: Command): void {
  register(program, "secret");
  register(program, "config");
}
