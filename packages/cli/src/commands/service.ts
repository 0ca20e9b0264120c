// shoal service create | ls | inspect | rm
import type { Command } from "commander";
import { InvalidArgumentError, Service, ServiceSpec, shortId, type DeepPartial } from "@shoal/shared";
import { Control, MANAGER_HELP, managerAddresses } from "../client.js";
import { formatTable } from "../output/table.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function keyValues(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key === "") throw new InvalidArgumentError(`"${v}" has no key`, { field: flag });
    out[key] = eq === -1 ? "" : v.slice(eq + 1);
  }
  return out;
}

interface CreateFlags {
  name?: string;
  replicas?: string;
  mode: string;
  env: string[];
  label: string[];
  containerLabel: string[];
  entrypoint?: string;
  manager?: string;
}

export function buildServiceSpec(image: string, args: readonly string[], flags: CreateFlags): ServiceSpec {
  if (flags.mode !== "replicated" && flags.mode !== "global") {
    throw new InvalidArgumentError(`"${flags.mode}" is not a mode: use replicated or global`, { field: "--mode" });
  }
  if (flags.mode === "global" && flags.replicas !== undefined) {
    throw new InvalidArgumentError("replicas can only be used with replicated mode", { field: "--replicas" });
  }
  let replicas = 1;
  if (flags.replicas !== undefined) {
    replicas = Number(flags.replicas);
    if (!/^\d+$/.test(flags.replicas) || !Number.isSafeInteger(replicas)) {
      throw new InvalidArgumentError(`"${flags.replicas}" is not a whole number`, { field: "--replicas" });
    }
  }
  const spec: DeepPartial<ServiceSpec> = {
    annotations: { name: flags.name ?? "", labels: keyValues(flags.label, "--label") },
    taskTemplate: {
      container: {
        image,
        args: [...args],
        env: flags.env,
        labels: keyValues(flags.containerLabel, "--container-label"),
        command: flags.entrypoint ? flags.entrypoint.split(" ").filter(Boolean) : [],
      },
    },
    mode: flags.mode === "global" ? { $case: "global", value: {} } : { $case: "replicated", value: { replicas } },
  };
  return ServiceSpec.fromPartial(spec);
}

function modeOf(s: Service): string {
  return s.spec?.mode?.$case === "global" ? "global" : "replicated";
}

function replicasOf(s: Service): string {
  const mode = s.spec?.mode;
  return mode?.$case === "replicated" ? `0/${mode.value.replicas}` : "0/0";
}

export function serviceTable(services: readonly Service[]): string {
  return formatTable(
    ["ID", "NAME", "MODE", "REPLICAS", "IMAGE"],
    services.map((s) => [
      shortId(s.id),
      s.spec?.annotations?.name ?? "",
      modeOf(s),
      replicasOf(s),
      s.spec?.taskTemplate?.container?.image ?? "",
    ]),
  );
}

async function withControl<T>(manager: string | undefined, fn: (control: Control) => Promise<T>): Promise<T> {
  const control = new Control(managerAddresses(manager));
  try {
    return await fn(control);
  } finally {
    control.close();
  }
}

export function registerServiceCommands(program: Command): void {
  const service = program.command("service").description("manage services").enablePositionalOptions();
  service
    .command("create")
    .description("create a service")
    .argument("<image>", "the image to run")
    .argument("[args...]", "command and arguments for the container (replace the image's CMD)")
    .option("--name <name>", "service name")
    .option("--replicas <n>", "number of tasks (replicated mode)")
    .option("--mode <mode>", "replicated or global", "replicated")
    .option("-e, --env <K=V>", "set an environment variable (repeatable)", collect, [])
    .option("-l, --label <k=v>", "service label (repeatable)", collect, [])
    .option("--container-label <k=v>", "container label (repeatable)", collect, [])
    .option("--entrypoint <cmd>", "override the image's entrypoint")
    .option("--manager <addrs>", MANAGER_HELP)
    .passThroughOptions()
    .action(async (image: string, args: string[], flags: CreateFlags) => {
      const spec = buildServiceSpec(image, args, flags);
      const { service: created } = await withControl(flags.manager, (c) => c.call("createService", { spec }));
      process.stdout.write(`${created?.id ?? ""}\n`);
    });

  service
    .command("ls")
    .description("list services")
    .option("-q, --quiet", "print only ids")
    .option("--json", "print the services as JSON")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: { quiet?: boolean; json?: boolean; manager?: string }) => {
      const { services } = await withControl(flags.manager, (c) => c.call("listServices", { filters: undefined }));
      if (flags.json)
        process.stdout.write(
          `${JSON.stringify(
            services.map((s) => Service.toJSON(s)),
            null,
            2,
          )}\n`,
        );
      else if (flags.quiet) process.stdout.write(services.map((s) => `${s.id}\n`).join(""));
      else process.stdout.write(serviceTable(services));
    });

  service
    .command("inspect")
    .description("show services as JSON")
    .argument("<service...>", "service name, id or id prefix")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], flags: { manager?: string }) => {
      const out = await withControl(flags.manager, async (c) => {
        const found = [];
        for (const ref of refs) found.push(Service.toJSON((await c.call("getService", { serviceId: ref })).service!));
        return found;
      });
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });

  service
    .command("rm")
    .description("remove services")
    .argument("<service...>", "service name, id or id prefix")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], flags: { manager?: string }) => {
      await withControl(flags.manager, async (c) => {
        for (const ref of refs) {
          await c.call("removeService", { serviceId: ref });
          process.stdout.write(`${ref}\n`);
        }
      });
    });
}
