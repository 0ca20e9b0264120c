import { discreteResource, namedResource } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { containerConfig } from "../../../src/exec/docker/container-config.js";
import { genericResourceEnv } from "../../../src/exec/docker/container-config-generic.js";
import { makeTask } from "../task-fixture.js";

describe("genericResourceEnv", () => {
  it("gives Swarm's DOCKER_RESOURCE_<KIND> variables: named units joined by commas, counts as numbers", () => {
    const task = makeTask({
      assignedGenericResources: [
        namedResource("gpu", "GPU-a"),
        discreteResource("ssd", 2),
        namedResource("gpu", "GPU-b"),
      ],
    });
    expect(genericResourceEnv(task)).toEqual(["DOCKER_RESOURCE_GPU=GPU-a,GPU-b", "DOCKER_RESOURCE_SSD=2"]);
  });

  it("adds them after the spec's env in the container's config, and nothing when none was given", () => {
    const task = makeTask({ spec: { container: { image: "shoal-base:1", env: ["A=1"] } } });
    expect(containerConfig(task).Env).toEqual(["A=1"]);
    task.assignedGenericResources = [namedResource("gpu", "GPU-a")];
    expect(containerConfig(task).Env).toEqual(["A=1", "DOCKER_RESOURCE_GPU=GPU-a"]);
  });
});
