import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discreteResource, namedResource, parseGenericResources } from "@shoal/shared";
import { buildProgram } from "../../src/cli.js";
import { buildServiceSpec } from "../../src/commands/service-spec.js";
import { applySpecEdit, parseUpdateFlags } from "../../src/commands/service-update-spec.js";
import { createFlags, updateFlags } from "./service-flags.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shoal-generic-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The agent command's options for a command line, with its action replaced. */
async function agentOptions(argv: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram();
  let seen: Record<string, unknown> = {};
  for (const c of program.commands) c.action((opts: Record<string, unknown>) => void (seen = opts));
  await program.parseAsync(["agent", "--manager", "m:1", "--data-dir", "/d", ...argv], { from: "user" });
  return seen;
}

const reservations = (spec: ReturnType<typeof buildServiceSpec>) => spec.taskTemplate?.resources?.reservations?.generic;

describe("shoal agent --generic-resource", () => {
  it("takes named units and counts, as dockerd's --node-generic-resource", async () => {
    const opts = await agentOptions([
      "--generic-resource",
      "gpu=GPU-a",
      "--generic-resource",
      "gpu=GPU-b",
      "--generic-resource",
      "ssd=2",
    ]);
    expect(parseGenericResources(opts["genericResource"] as string[], "f")).toEqual([
      namedResource("gpu", "GPU-a"),
      namedResource("gpu", "GPU-b"),
      discreteResource("ssd", 2),
    ]);
  });

  it("refuses a bad term on the command line and in a config file, naming the flag", async () => {
    await expect(agentOptions(["--generic-resource", "gpu"])).rejects.toThrow(
      /^--generic-resource: "gpu" is not KIND=VALUE/,
    );
    await expect(agentOptions(["--generic-resource", "gpu=1", "--generic-resource", "gpu=GPU-a"])).rejects.toThrow(
      /mixes a count and named units/,
    );
    const file = join(dir, "agent.json");
    await writeFile(file, JSON.stringify({ "generic-resource": ["gpu=GPU-a", "gpu=2"] }));
    await expect(agentOptions(["--config", file])).rejects.toThrow(
      /"generic-resource": .*mixes a count and named units/,
    );
    await writeFile(file, JSON.stringify({ "generic-resource": ["gpu=GPU-a", "gpu=GPU-b"] }));
    expect((await agentOptions(["--config", file]))["genericResource"]).toEqual(["gpu=GPU-a", "gpu=GPU-b"]);
  });
});

describe("shoal service create --generic-resource", () => {
  it("reserves counts per kind", () => {
    const spec = buildServiceSpec("app", [], createFlags({ genericResource: ["gpu=1", "fpga=2"] }));
    expect(reservations(spec)).toEqual([discreteResource("gpu", 1), discreteResource("fpga", 2)]);
    expect(spec.taskTemplate?.resources?.reservations?.nanoCpus).toBe(0);
  });

  it("refuses named units, zero, and a kind given twice, as the docker CLI", () => {
    expect(() => buildServiceSpec("app", [], createFlags({ genericResource: ["gpu=GPU-a"] }))).toThrow(
      /--generic-resource: "gpu=GPU-a": a service reserves a count/,
    );
    expect(() => buildServiceSpec("app", [], createFlags({ genericResource: ["gpu=0"] }))).toThrow(/1 or more/);
    expect(() => buildServiceSpec("app", [], createFlags({ genericResource: ["gpu=1", "gpu=2"] }))).toThrow(
      /given twice/,
    );
  });
});

describe("shoal service update --generic-resource-add | -rm", () => {
  const current = buildServiceSpec("app", [], createFlags({ genericResource: ["gpu=1", "fpga=2"], reserveCpu: "1" }));

  it("sets a kind's count in place, adds new kinds last, removes kinds, keeps the rest", () => {
    const next = applySpecEdit(
      current,
      parseUpdateFlags(updateFlags({ genericResourceAdd: ["gpu=2", "ssd=1"], genericResourceRm: ["fpga"] })),
    );
    expect(reservations(next)).toEqual([discreteResource("gpu", 2), discreteResource("ssd", 1)]);
    expect(next.taskTemplate?.resources?.reservations?.nanoCpus).toBe(1e9);
    expect(applySpecEdit(current, parseUpdateFlags(updateFlags({})))).toEqual(current);
  });

  it("refuses to remove a kind the service does not reserve", () => {
    expect(() => applySpecEdit(current, parseUpdateFlags(updateFlags({ genericResourceRm: ["tpu"] })))).toThrow(
      /--generic-resource-rm: the service reserves no generic resource "tpu"/,
    );
  });
});
