// A service's networks and endpoint mode between Docker's ServiceSpec and Shoal's, its Endpoint
// (allocated ports, virtual IPs) and a task's NetworksAttachments as Docker shows them.
import { EndpointMode, Network, PortProtocol, Service, Task, type ServiceSpec } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import type { DockerServiceSpec } from "../../src/dockerapi/docker-types.js";
import { toDockerService, toDockerTask } from "../../src/dockerapi/objects.js";
import { fromDockerServiceSpec, toDockerServiceSpec } from "../../src/dockerapi/service-spec.js";
import { UNMAPPED_LABEL } from "../../src/dockerapi/unmapped-fields.js";

// The body of `docker stack deploy`: networks named by name, with the short service name as alias.
const stackService: DockerServiceSpec = {
  Name: "stk_web",
  TaskTemplate: {
    ContainerSpec: { Image: "local/busybox:1" },
    Networks: [{ Target: "stk_backend", Aliases: ["web"] }, { Target: "stk_default" }],
  },
  EndpointSpec: { Mode: "dnsrr" },
};

const NET_ID = "n3tw0rk000000000000000001";

describe("service networks and endpoint mode", () => {
  it("maps TaskTemplate.Networks and EndpointSpec.Mode into the spec, keeping nothing aside", () => {
    const spec = fromDockerServiceSpec(stackService);
    expect(spec.taskTemplate?.networks).toEqual([
      { target: "stk_backend", aliases: ["web"] },
      { target: "stk_default", aliases: [] },
    ]);
    expect(spec.endpoint).toEqual({ ports: [], mode: EndpointMode.DNSRR });
    expect(spec.annotations?.labels[UNMAPPED_LABEL]).toBeUndefined();
  });

  it("takes the deprecated service-level Networks when the template has none", () => {
    const spec = fromDockerServiceSpec({
      Name: "w",
      TaskTemplate: { ContainerSpec: { Image: "x" } },
      Networks: [{ Target: "n1" }],
    });
    expect(spec.taskTemplate?.networks).toEqual([{ target: "n1", aliases: [] }]);
    expect(spec.annotations?.labels[UNMAPPED_LABEL]).toBeUndefined();
  });

  it("refuses a bad mode, an attachment without Target and driver options, naming the field", () => {
    expect(() => fromDockerServiceSpec({ Name: "w", EndpointSpec: { Mode: "round" } })).toThrow(
      /EndpointSpec.Mode: "round" is not one of vip, dnsrr/,
    );
    expect(() => fromDockerServiceSpec({ Name: "w", TaskTemplate: { Networks: [{ Aliases: ["a"] }] } })).toThrow(
      /TaskTemplate.Networks\[0\].Target: is required/,
    );
    expect(() =>
      fromDockerServiceSpec({ Name: "w", TaskTemplate: { Networks: [{ Target: "n", DriverOpts: { a: "b" } }] } }),
    ).toThrow(/TaskTemplate.Networks\[0\].DriverOpts/);
  });

  it("shows the networks (by the id the Control API stored) and the mode back", () => {
    const spec: ServiceSpec = {
      ...fromDockerServiceSpec(stackService),
      taskTemplate: {
        ...fromDockerServiceSpec(stackService).taskTemplate!,
        networks: [{ target: NET_ID, aliases: ["web"] }],
      },
    };
    const docker = toDockerServiceSpec(spec);
    expect(docker.TaskTemplate?.Networks).toEqual([{ Target: NET_ID, Aliases: ["web"] }]);
    expect(docker.EndpointSpec).toEqual({ Mode: "dnsrr" });
    const vip = toDockerServiceSpec(
      { ...spec, endpoint: { ports: [], mode: EndpointMode.VIP } },
      { insertDefaults: true },
    );
    expect(vip.EndpointSpec).toEqual({ Mode: "vip" });
  });

  it("shows the Endpoint with the allocated ports and one virtual IP per network", () => {
    const spec = fromDockerServiceSpec({
      Name: "web",
      TaskTemplate: { ContainerSpec: { Image: "x" }, Networks: [{ Target: NET_ID }] },
      EndpointSpec: { Ports: [{ TargetPort: 80 }] },
    });
    const service = Service.fromPartial({
      id: "s1",
      spec,
      endpoint: {
        spec: spec.endpoint,
        ports: [{ protocol: PortProtocol.TCP, targetPort: 80, publishedPort: 30001 }],
        virtualIps: [{ networkId: NET_ID, addr: "10.0.1.2/24" }],
      },
    });
    expect(toDockerService(service)["Endpoint"]).toEqual({
      Spec: { Mode: "vip", Ports: [{ Protocol: "tcp", TargetPort: 80, PublishedPort: 0, PublishMode: "ingress" }] },
      Ports: [{ Protocol: "tcp", TargetPort: 80, PublishedPort: 30001, PublishMode: "ingress" }],
      VirtualIPs: [{ NetworkID: NET_ID, Addr: "10.0.1.2/24" }],
    });
  });

  it("shows a task's NetworksAttachments with the network as Docker's swarm object", () => {
    const network = Network.fromPartial({
      id: NET_ID,
      meta: { version: { index: 3 }, createdAt: new Date(0) },
      spec: { annotations: { name: "stk_backend", labels: { a: "b" } } },
      ipam: { configs: [{ subnet: "10.0.1.0/24", gateway: "10.0.1.1" }] },
      vni: 4097,
    });
    const task = Task.fromPartial({ id: "t1", networks: [{ networkId: NET_ID, addresses: ["10.0.1.5/24"] }] });
    expect(toDockerTask(task, new Map([[NET_ID, network]]))["NetworksAttachments"]).toEqual([
      {
        Network: {
          ID: NET_ID,
          Version: { Index: 3 },
          CreatedAt: "1970-01-01T00:00:00.000Z",
          UpdatedAt: "1970-01-01T00:00:00.000Z",
          Spec: {
            Name: "stk_backend",
            Labels: { a: "b" },
            DriverConfiguration: { Name: "overlay" },
            IPAMOptions: { Driver: { Name: "default" }, Configs: [{ Subnet: "10.0.1.0/24", Gateway: "10.0.1.1" }] },
            Scope: "swarm",
          },
          DriverState: { Name: "overlay", Options: { "com.docker.network.driver.overlay.vxlanid_list": "4097" } },
          IPAMOptions: { Driver: { Name: "default" }, Configs: [{ Subnet: "10.0.1.0/24", Gateway: "10.0.1.1" }] },
        },
        Addresses: ["10.0.1.5/24"],
      },
    ]);
    expect(toDockerTask(Task.fromPartial({ id: "t2" }))["NetworksAttachments"]).toBeUndefined();
  });
});
