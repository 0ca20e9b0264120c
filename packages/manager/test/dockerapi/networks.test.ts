// /networks: named groups kept in the cluster's labels.
import { describe, expect, it } from "vitest";
import { networkHandlers } from "../../src/dockerapi/networks.js";
import { dockerRequest, fakeDocker } from "./fake-docker-context.js";

describe("network create", () => {
  it("takes field names in any case, as Docker's daemon does", async () => {
    const docker = fakeDocker();
    const handlers = networkHandlers(docker.ctx);
    const body = { name: "stk_net", driver: "overlay", labels: { "Com.Example": "1" }, attachable: true };
    const reply = (await handlers["create"]!(dockerRequest({ body }))) as { status: number; json: { Id: string } };
    expect(reply.status).toBe(201);
    const shown = (await handlers["inspect"]!(dockerRequest({ params: { id: "stk_net" } }))) as {
      json: Record<string, unknown>;
    };
    expect(shown.json).toMatchObject({
      Id: reply.json.Id,
      Name: "stk_net",
      Labels: { "Com.Example": "1" },
      Attachable: true,
    });
  });
});
