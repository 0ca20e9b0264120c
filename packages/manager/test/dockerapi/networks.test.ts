// /networks: named groups kept in the cluster's labels.
import { describe, expect, it } from "vitest";
import { Service } from "@shoal/shared";
import { networkHandlers } from "../../src/dockerapi/networks.js";
import { UNMAPPED_LABEL } from "../../src/dockerapi/unmapped-fields.js";
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

describe("network remove", () => {
  it("refuses a network a service is attached to, as SwarmKit does, and removes it once free", async () => {
    const docker = fakeDocker();
    const handlers = networkHandlers(docker.ctx);
    const made = (await handlers["create"]!(dockerRequest({ body: { Name: "stk_net" } }))) as { json: { Id: string } };
    const id = made.json.Id;
    const kept = JSON.stringify({ TaskTemplate: { Networks: [{ Target: id, Aliases: ["web"] }] } });
    docker.services.push(
      Service.fromPartial({ id: "svc1", spec: { annotations: { name: "web", labels: { [UNMAPPED_LABEL]: kept } } } }),
    );
    await expect(handlers["remove"]!(dockerRequest({ params: { id: "stk_net" } }))).rejects.toThrow(
      `network ${id} is in use by service svc1`,
    );
    docker.services.length = 0;
    expect(await handlers["remove"]!(dockerRequest({ params: { id: "stk_net" } }))).toEqual({ status: 204 });
    await expect(handlers["inspect"]!(dockerRequest({ params: { id } }))).rejects.toThrow(`network ${id} not found`);
  });
});
