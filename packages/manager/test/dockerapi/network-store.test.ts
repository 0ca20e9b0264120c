// How networks are kept (cluster labels) and found (Docker's getNetwork order).
import { describe, expect, it } from "vitest";
import { findNetwork, networksOf, type StoredNetwork } from "../../src/dockerapi/network-store.js";

describe("findNetwork", () => {
  const net = (Id: string, Name: string): StoredNetwork => ({
    Id,
    Name,
    Created: "",
    Driver: "overlay",
    Attachable: false,
    Labels: {},
  });
  const networks = [net("abc111", "front"), net("abc222", "abc111x"), net("zzz", "abc")];

  it("finds by full id, then name, then unique id prefix, as Docker's getNetwork", () => {
    expect(findNetwork(networks, "abc111").Name).toBe("front");
    expect(findNetwork(networks, "abc").Id).toBe("zzz");
    expect(findNetwork(networks, "abc2").Name).toBe("abc111x");
  });

  it("answers none with 'not found' and several with 'ambiguous'", () => {
    expect(() => findNetwork(networks, "nope")).toThrow("network nope not found");
    expect(() => findNetwork(networks, "ab")).toThrow("network ab is ambiguous (2 matches found)");
  });
});

describe("networksOf", () => {
  it("reads the networks from the cluster's labels, by name, and skips what is not one", () => {
    const a = { Id: "a1", Name: "b-net", Created: "", Driver: "overlay", Attachable: false, Labels: {} };
    const b = { ...a, Id: "b1", Name: "a-net" };
    const labels = {
      "com.shoal.network/b-net": JSON.stringify(a),
      "com.shoal.network/a-net": JSON.stringify(b),
      "com.shoal.network/bad": "{",
      team: "x",
    };
    expect(networksOf(labels).map((n) => n.Name)).toEqual(["a-net", "b-net"]);
  });
});
