// A service's networks named by id, as Docker's daemon keeps them (populateNetworkID).
import { describe, expect, it } from "vitest";
import { NotFoundError, Service } from "@shoal/shared";
import type { DockerServiceSpec } from "../../src/dockerapi/docker-types.js";
import type { StoredNetwork } from "../../src/dockerapi/network-store.js";
import { resolveNetworkTargets, serviceUsingNetwork, withNetworkIds } from "../../src/dockerapi/network-targets.js";
import { UNMAPPED_LABEL } from "../../src/dockerapi/unmapped-fields.js";
import { fakeDocker } from "./fake-docker-context.js";

const network = (Id: string, Name: string): StoredNetwork => ({
  Id,
  Name,
  Created: "1970-01-01T00:00:00.000Z",
  Driver: "overlay",
  Attachable: false,
  Labels: {},
});
const backend = network("y810udeww3gssiyzafqgtzrfo", "trcstk_backend");
const front = network("y8zzzzzzzzzzzzzzzzzzzzzzz", "trcstk_default");
const networks = [backend, front];

// The body of `docker stack deploy` (trace stackdeploy): networks named by name.
const stackService: DockerServiceSpec = {
  Name: "trcstk_web",
  TaskTemplate: {
    ContainerSpec: { Image: "local/busybox:1" },
    Networks: [{ Target: "trcstk_backend", Aliases: ["web"] }],
  },
};

describe("withNetworkIds", () => {
  it("replaces a network's name by its id and keeps the rest of the attachment", () => {
    expect(withNetworkIds(stackService, networks).TaskTemplate?.Networks).toEqual([
      { Target: "y810udeww3gssiyzafqgtzrfo", Aliases: ["web"] },
    ]);
  });

  it("keeps an id as it is, and takes a unique id prefix", () => {
    const spec = (Target: string): DockerServiceSpec => ({ TaskTemplate: { Networks: [{ Target }] } });
    expect(withNetworkIds(spec(backend.Id), networks).TaskTemplate?.Networks).toEqual([{ Target: backend.Id }]);
    expect(withNetworkIds(spec("y81"), networks).TaskTemplate?.Networks).toEqual([{ Target: backend.Id }]);
    expect(() => withNetworkIds(spec("y8"), networks)).toThrow("network y8 is ambiguous (2 matches found)");
  });

  it("answers a name no network has as Docker does: network X not found", () => {
    const spec: DockerServiceSpec = { TaskTemplate: { Networks: [{ Target: "nosuch_net" }] } };
    expect(() => withNetworkIds(spec, networks)).toThrow(new NotFoundError("network", "nosuch_net"));
    expect(() => withNetworkIds(spec, networks)).toThrow("network nosuch_net not found");
  });

  it("resolves the deprecated service-level Networks only when the template names none", () => {
    const old: DockerServiceSpec = { Networks: [{ Target: "trcstk_default" }] };
    expect(withNetworkIds(old, networks).Networks).toEqual([{ Target: front.Id }]);
    const both: DockerServiceSpec = { ...stackService, Networks: [{ Target: "anything" }] };
    expect(withNetworkIds(both, networks).Networks).toEqual([{ Target: "anything" }]);
    const none: DockerServiceSpec = { Name: "a" };
    expect(withNetworkIds(none, networks)).toBe(none);
  });
});

describe("resolveNetworkTargets", () => {
  it("reads the networks only for a spec that names some", async () => {
    const docker = fakeDocker({ [`com.shoal.network/${backend.Name}`]: JSON.stringify(backend) });
    await resolveNetworkTargets(docker.ctx, { Name: "a" });
    expect(docker.calls).toEqual([]);
    const resolved = await resolveNetworkTargets(docker.ctx, stackService);
    expect(resolved.TaskTemplate?.Networks?.[0]?.Target).toBe(backend.Id);
    expect(docker.requests("listClusters")).toHaveLength(1);
  });
});

describe("serviceUsingNetwork", () => {
  const service = (id: string, kept: unknown): Service =>
    Service.fromPartial({
      id,
      spec: { annotations: { name: id, labels: kept === undefined ? {} : { [UNMAPPED_LABEL]: JSON.stringify(kept) } } },
    });

  it("finds a service attached by id, by the deprecated Networks, or by a name stored before ids", () => {
    const plain = service("plain", undefined);
    const other = service("other", { TaskTemplate: { Networks: [{ Target: front.Id }] } });
    expect(serviceUsingNetwork([plain, other], backend)).toBeUndefined();
    const byId = service("byId", { TaskTemplate: { Networks: [{ Target: backend.Id }] } });
    expect(serviceUsingNetwork([plain, other, byId], backend)?.id).toBe("byId");
    expect(serviceUsingNetwork([service("old", { Networks: [{ Target: backend.Id }] })], backend)?.id).toBe("old");
    expect(
      serviceUsingNetwork([service("named", { TaskTemplate: { Networks: [{ Target: backend.Name }] } })], backend)?.id,
    ).toBe("named");
  });
});
