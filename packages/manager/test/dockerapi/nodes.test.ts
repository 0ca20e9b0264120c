// /nodes update: a NodeSpec decoded as Docker decodes it.
import { describe, expect, it } from "vitest";
import { NodeAvailability, NodeRole, type NodeSpec } from "@shoal/shared";
import { nodeHandlers } from "../../src/dockerapi/nodes.js";
import { dockerRequest, fakeDocker } from "./fake-docker-context.js";

describe("node update", () => {
  it("takes field names in any case and keeps label keys as given", async () => {
    const docker = fakeDocker();
    const body = { labels: { Zone: "z1" }, role: "manager", AVAILABILITY: "drain" };
    expect(
      await nodeHandlers(docker.ctx)["update"]!(dockerRequest({ params: { id: "n1" }, query: "version=3", body })),
    ).toEqual({ status: 200 });
    const [{ spec }] = docker.requests<{ spec: NodeSpec }>("updateNode") as [{ spec: NodeSpec }];
    expect(spec).toEqual({
      annotations: { name: "", labels: { Zone: "z1" } },
      desiredRole: NodeRole.MANAGER,
      availability: NodeAvailability.DRAIN,
    });
  });
});
