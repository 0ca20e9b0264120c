import type { Task } from "@shoal/shared";
import { PortProtocol, PublishMode } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { HostPortFilter } from "../../../src/scheduler/filters/host-ports.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { taskUsage } from "../../../src/scheduler/task-rules.js";
import { makeNode, makeTask } from "../fixtures.js";

function withPort(protocol: PortProtocol, publishedPort: number, publishMode = PublishMode.HOST): Task {
  const t = makeTask("s", 1);
  t.endpoint = { ports: [{ name: "", protocol, targetPort: 80, publishedPort, publishMode }], mode: 0 };
  return t;
}

describe("HostPortFilter", () => {
  it("does not apply without host-mode published ports", () => {
    const f = new HostPortFilter();
    expect(f.setTask(makeTask("s", 1))).toBe(false);
    expect(f.setTask(withPort(PortProtocol.TCP, 80, PublishMode.INGRESS))).toBe(false);
    expect(f.setTask(withPort(PortProtocol.TCP, 0))).toBe(false);
  });

  it("refuses a node where another held task publishes the same port and protocol", () => {
    const info = new NodeInfo("a", makeNode("a"));
    const f = new HostPortFilter();
    expect(f.setTask(makeTask("web", 1, { hostPorts: [80] }))).toBe(true);
    expect(f.check(info)).toBe(true);
    info.addTask("other", taskUsage(withPort(PortProtocol.UDP, 80)), true);
    expect(f.check(info)).toBe(true);
    info.addTask("web.0", taskUsage(makeTask("web", 0, { hostPorts: [80] })), false);
    expect(f.check(info)).toBe(false);
    info.removeTask("web.0");
    expect(f.check(info)).toBe(true);
  });

  it("explains", () => {
    expect(new HostPortFilter().explain(2)).toBe("host-mode published port already in use on 2 nodes");
  });
});
