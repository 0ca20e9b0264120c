// Generic resources and platforms through the Docker API: a service's both ways, a node's and a
// task's as Docker shows them.
import { Node, ServiceSpec, Task, TaskState, discreteResource, namedResource, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { SERVICE_SPEC_SHAPE, type DockerServiceSpec, type DockerTaskSpec } from "../../src/dockerapi/docker-types.js";
import { decodeShape } from "../../src/dockerapi/json-shape.js";
import { toDockerNode, toDockerTask } from "../../src/dockerapi/objects.js";
import { UNMAPPED_LABEL, fromDockerServiceSpec, toDockerServiceSpec } from "../../src/dockerapi/service-spec.js";

const docker: DockerServiceSpec = {
  Name: "ml",
  TaskTemplate: {
    ContainerSpec: { Image: "x:1" },
    Resources: {
      Limits: { MemoryBytes: 1024 },
      Reservations: { GenericResources: [{ DiscreteResourceSpec: { Kind: "gpu", Value: 2 } }] },
    },
    Placement: {
      Platforms: [
        { Architecture: "arm64", OS: "linux" },
        { Architecture: "amd64", OS: "linux" },
      ],
    },
    ForceUpdate: 0,
  },
  Mode: { Replicated: { Replicas: 1 } },
};

const withTemplate = (t: DeepPartial<DockerTaskSpec>): DockerServiceSpec => ({
  Name: "ml",
  TaskTemplate: { ContainerSpec: { Image: "x:1" }, ...t } as DockerTaskSpec,
});

describe("generic resources and platforms in a Docker ServiceSpec", () => {
  it("reads Reservations.GenericResources and Placement.Platforms, keeps nothing aside, and gives them back", () => {
    const spec = fromDockerServiceSpec(docker);
    expect(spec.taskTemplate?.resources?.reservations?.generic).toEqual([discreteResource("gpu", 2)]);
    expect(spec.taskTemplate?.placement?.platforms).toEqual([
      { os: "linux", architecture: "arm64" },
      { os: "linux", architecture: "amd64" },
    ]);
    expect(spec.annotations?.labels[UNMAPPED_LABEL]).toBeUndefined();
    const back = toDockerServiceSpec(ServiceSpec.fromPartial(spec));
    expect(back.TaskTemplate?.Resources).toEqual(docker.TaskTemplate?.Resources);
    expect(back.TaskTemplate?.Placement).toEqual(docker.TaskTemplate?.Placement);
  });

  it("matches the fields in any case, and refuses an unknown one", () => {
    const sent = { Name: "ml", TaskTemplate: { Placement: { platforms: [{ os: "linux", architecture: "arm64" }] } } };
    expect(decodeShape(sent, SERVICE_SPEC_SHAPE)).toEqual({
      Name: "ml",
      TaskTemplate: { Placement: { Platforms: [{ OS: "linux", Architecture: "arm64" }] } },
    });
    const variant = { TaskTemplate: { Placement: { Platforms: [{ OS: "linux", Variant: "v7" }] } } };
    expect(() => decodeShape(variant, SERVICE_SPEC_SHAPE)).toThrow(
      "TaskTemplate.Placement.Platforms[0].Variant: unknown field",
    );
  });

  it.each([
    [
      { Resources: { Reservations: { GenericResources: [{ NamedResourceSpec: { Kind: "gpu", Value: "GPU-a" } }] } } },
      "TaskTemplate.Resources.Reservations.GenericResources[0].NamedResourceSpec: a service reserves counts",
    ],
    [
      { Resources: { Reservations: { GenericResources: [{ DiscreteResourceSpec: { Kind: "gpu", Value: 0 } }] } } },
      "TaskTemplate.Resources.Reservations.GenericResources[0].DiscreteResourceSpec.Value: must be a whole number of 1 or more",
    ],
    [
      { Resources: { Reservations: { GenericResources: [{}] } } },
      "TaskTemplate.Resources.Reservations.GenericResources[0]: needs a DiscreteResourceSpec",
    ],
    [
      { Resources: { Limits: { GenericResources: [{ DiscreteResourceSpec: { Kind: "gpu", Value: 1 } }] } } },
      "TaskTemplate.Resources.Limits.GenericResources: generic resources are only reservations",
    ],
  ])("refuses %j naming the field", (template, message) => {
    expect(() => fromDockerServiceSpec(withTemplate(template))).toThrow(message);
  });
});

describe("generic resources of nodes and tasks", () => {
  it("shows what a node advertises, named and discrete, and nothing when it has none", () => {
    const node = Node.fromPartial({
      id: "n1",
      description: {
        hostname: "gpu-host",
        resources: {
          nanoCpus: 1e9,
          memoryBytes: 1024,
          generic: [namedResource("gpu", "GPU-a"), discreteResource("ssd", 2)],
        },
      },
    });
    const shown = toDockerNode(node) as { Description: { Resources: Record<string, unknown> } };
    expect(shown.Description.Resources).toEqual({
      NanoCPUs: 1e9,
      MemoryBytes: 1024,
      GenericResources: [
        { NamedResourceSpec: { Kind: "gpu", Value: "GPU-a" } },
        { DiscreteResourceSpec: { Kind: "ssd", Value: 2 } },
      ],
    });
    node.description!.resources!.generic = [];
    const plain = toDockerNode(node) as { Description: { Resources: Record<string, unknown> } };
    expect(plain.Description.Resources).toEqual({ NanoCPUs: 1e9, MemoryBytes: 1024 });
  });

  it("shows the units a task was given as its GenericResources", () => {
    const task = Task.fromPartial({
      id: "t1",
      status: { state: TaskState.RUNNING },
      assignedGenericResources: [namedResource("gpu", "GPU-b")],
    });
    expect(toDockerTask(task)["GenericResources"]).toEqual([{ NamedResourceSpec: { Kind: "gpu", Value: "GPU-b" } }]);
    expect(toDockerTask(Task.fromPartial({ id: "t2" }))["GenericResources"]).toBeUndefined();
  });
});
