import { ExecError } from "@shoal/agent";
import { MountType, NodeDescription } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { expandTaskTemplates, templateContext } from "../../src/exec/template.js";
import { makeTask } from "./task-fixture.js";

const description = NodeDescription.fromPartial({
  hostname: "host-a",
  platform: { os: "linux", architecture: "aarch64" },
});
const node = { id: "node-1", description };

describe("expandTaskTemplates", () => {
  it("expands the hostname, env values and mount sources and targets for the task and node", () => {
    const task = makeTask({
      id: "t1",
      slot: 3,
      serviceAnnotations: { name: "web", labels: { zone: "eu" } },
      spec: {
        container: {
          image: "shoal-base:1",
          hostname: "{{.Node.Hostname}}-{{.Task.Slot}}",
          env: ["WHO={{.Service.Name}}.{{.Task.Slot}}", "ZONE={{index .Service.Labels `zone`}}", "RAW"],
          mounts: [{ type: MountType.VOLUME, source: "data-{{.Task.Slot}}", target: "/d/{{.Node.Platform.OS}}" }],
        },
      },
    });
    const c = expandTaskTemplates(task, node).spec!.container!;
    expect(c.hostname).toBe("host-a-3");
    expect(c.env).toEqual(["WHO=web.3", "ZONE=eu", "RAW"]);
    expect(c.mounts[0]).toMatchObject({ source: "data-3", target: "/d/linux" });
    expect(task.spec!.container!.hostname).toBe("{{.Node.Hostname}}-{{.Task.Slot}}"); // not changed in place
  });

  it("gives a global task its node id for a slot and names tasks as Swarm does", () => {
    const task = makeTask({ id: "t2", slot: 0, nodeId: "node-9", serviceId: "s9" });
    expect(templateContext(task, node).task).toEqual({ id: "t2", name: "web.node-9.t2", slot: "node-9" });
    expect(templateContext(task, node).service.id).toBe("s9");
    expect(templateContext(task, node).node.platform.architecture).toBe("aarch64");
  });

  it("returns a task without templates as it is, and fails a bad template as an invalid spec", () => {
    const plain = makeTask();
    expect(expandTaskTemplates(plain, node)).toBe(plain);
    const bad = makeTask({ spec: { container: { image: "shoal-base:1", hostname: "{{.Nope}}" } } });
    expect(() => expandTaskTemplates(bad, node)).toThrow(ExecError);
    expect(() => expandTaskTemplates(bad, node)).toThrow("expanding hostname");
  });
});
