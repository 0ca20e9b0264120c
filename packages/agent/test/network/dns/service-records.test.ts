import { describe, expect, it } from "vitest";
import { askerNetworks, normalizeName, resolveName } from "../../../src/network/dns/service-records.js";
import { networkState } from "./fixtures.js";

const front = networkState(
  "net-front",
  "10.0.1.1",
  [
    { id: "svc-web", name: "web", aliases: ["www"], vip: "10.0.1.2" },
    { id: "svc-api", name: "api", dnsrr: true },
  ],
  [
    { task: "t-web-1", service: "svc-web", address: "10.0.1.3" },
    { task: "t-web-2", service: "svc-web", address: "10.0.1.4", ready: false },
    { task: "t-api-1", service: "svc-api", address: "10.0.1.5" },
    { task: "t-api-2", service: "svc-api", address: "10.0.1.6", ready: false },
  ],
);
const back = networkState(
  "net-back",
  "10.0.2.1",
  [
    { id: "svc-api", name: "api", dnsrr: true },
    { id: "svc-db", name: "db", vip: "10.0.2.2" },
  ],
  [
    { task: "t-api-1", service: "svc-api", address: "10.0.2.5" },
    { task: "t-db-1", service: "svc-db", address: "10.0.2.3" },
  ],
);
const ingress = networkState(
  "net-ingress",
  "10.255.0.1",
  [{ id: "svc-web", name: "web", vip: "" }],
  [{ task: "t-web-1", service: "svc-web", address: "10.255.0.3" }],
  true,
);
const all = [back, front, ingress];

describe("askerNetworks", () => {
  it("gives the networks the asking task joins, the receiving one first, without ingress", () => {
    const ids = askerNetworks(all, "net-back", "10.0.2.5", "node-1").map((s) => s.network?.id);
    expect(ids).toEqual(["net-back", "net-front"]);
  });

  it("gives only the networks of a task on one network", () => {
    const ids = askerNetworks(all, "net-front", "10.0.1.3", "node-1").map((s) => s.network?.id);
    expect(ids).toEqual(["net-front"]);
  });

  it("falls back to the receiving network for an unknown source", () => {
    const ids = askerNetworks(all, "net-back", "192.168.9.9", "node-1").map((s) => s.network?.id);
    expect(ids).toEqual(["net-back"]);
  });

  it("answers no names on ingress", () => {
    expect(askerNetworks(all, "net-ingress", "10.255.0.3", "node-1").map((s) => s.network?.id)).toEqual(["net-front"]);
    expect(askerNetworks(all, "net-ingress", "10.255.0.99", "node-1")).toEqual([]);
  });

  it("prefers this node's endpoint when two share an address", () => {
    const a = networkState(
      "net-a",
      "10.0.3.1",
      [],
      [
        { task: "t-remote", service: "s", address: "10.0.3.7", node: "node-2" },
        { task: "t-local", service: "s", address: "10.0.3.7", node: "node-1" },
      ],
    );
    const b = networkState("net-b", "10.0.4.1", [], [{ task: "t-local", service: "s", address: "10.0.4.7" }]);
    expect(askerNetworks([a, b], "net-a", "10.0.3.7", "node-1").map((s) => s.network?.id)).toEqual(["net-a", "net-b"]);
  });
});

describe("resolveName", () => {
  it("gives a VIP service's virtual IP, by name or alias, in any case, with a trailing dot", () => {
    expect(resolveName([front], "web")).toEqual(["10.0.1.2"]);
    expect(resolveName([front], "WWW.")).toEqual(["10.0.1.2"]);
  });

  it("gives a dnsrr service's ready endpoints only", () => {
    expect(resolveName([front], "api")).toEqual(["10.0.1.5"]);
  });

  it("gives tasks.NAME's ready endpoints, for a name or an alias", () => {
    expect(resolveName([front], "tasks.web")).toEqual(["10.0.1.3"]);
    expect(resolveName([front], "tasks.www")).toEqual(["10.0.1.3"]);
  });

  it("answers from the first network that knows the name", () => {
    expect(resolveName([back, front], "api")).toEqual(["10.0.2.5"]);
    expect(resolveName([front, back], "api")).toEqual(["10.0.1.5"]);
  });

  it("gives an empty list for a known service with nothing to give", () => {
    const none = networkState(
      "n",
      "10.0.5.1",
      [
        { id: "s", name: "rr", dnsrr: true },
        { id: "v", name: "novip" },
      ],
      [{ task: "t", service: "s", address: "10.0.5.3", ready: false }],
    );
    expect(resolveName([none], "rr")).toEqual([]);
    expect(resolveName([none], "tasks.rr")).toEqual([]);
    expect(resolveName([none], "novip")).toEqual([]);
  });

  it("knows nothing of other names or other networks' services", () => {
    expect(resolveName([front], "db")).toBeUndefined();
    expect(resolveName([front], "tasks.db")).toBeUndefined();
    expect(resolveName([front], "example.com")).toBeUndefined();
    expect(resolveName([front], "tasks.")).toBeUndefined();
  });
});

describe("normalizeName", () => {
  it("lowers the case and drops the trailing dot", () => {
    expect(normalizeName("Web.Example.")).toBe("web.example");
  });
});
