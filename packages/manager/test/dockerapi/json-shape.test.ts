// Request bodies decoded as Docker's daemon decodes them (Go's encoding/json): field names matched
// exactly, else case-insensitively; map keys kept as they are; anything else a 400 naming the field.
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "@shoal/shared";
import { decodeShape, foldKey, type Shape } from "../../src/dockerapi/json-shape.js";
import { NETWORK_CREATE_SHAPE, NODE_SPEC_SHAPE, SERVICE_SPEC_SHAPE } from "../../src/dockerapi/docker-types.js";

describe("decodeShape: field names", () => {
  it("spells every field as Docker does, whatever the case it was sent in (docker-py)", () => {
    // ServiceMode('replicated', replicas=2) and RollbackConfig(order=...) as docker-py sends them.
    const body = {
      name: "web",
      TaskTemplate: { containerspec: { IMAGE: "x:1", env: ["A=1"] }, Placement: { preferences: [] } },
      Mode: { replicated: { Replicas: 2 } },
      RollbackConfig: { Parallelism: 1, order: "start-first", failureaction: "pause" },
    };
    expect(decodeShape(body, SERVICE_SPEC_SHAPE)).toEqual({
      Name: "web",
      TaskTemplate: { ContainerSpec: { Image: "x:1", Env: ["A=1"] }, Placement: { Preferences: [] } },
      Mode: { Replicated: { Replicas: 2 } },
      RollbackConfig: { Parallelism: 1, Order: "start-first", FailureAction: "pause" },
    });
  });

  it("reaches the structs Shoal keeps without reading, at any depth, and keeps their unknown keys", () => {
    const body = {
      TaskTemplate: {
        networks: [{ target: "net", ALIASES: ["web"], driveropts: { "Opt.Key": "v" } }],
        ContainerSpec: {
          dnsconfig: { nameservers: ["8.8.8.8"] },
          privileges: { selinuxcontext: { disable: true }, NoNewPrivileges: false, Future: 1 },
        },
        logdriver: { name: "json-file", options: { "Max-Size": "1m" } },
      },
    };
    expect(decodeShape(body, SERVICE_SPEC_SHAPE)).toEqual({
      TaskTemplate: {
        Networks: [{ Target: "net", Aliases: ["web"], DriverOpts: { "Opt.Key": "v" } }],
        ContainerSpec: {
          DNSConfig: { Nameservers: ["8.8.8.8"] },
          Privileges: { SELinuxContext: { Disable: true }, NoNewPrivileges: false, Future: 1 },
        },
        LogDriver: { Name: "json-file", Options: { "Max-Size": "1m" } },
      },
    });
  });

  it("keeps the keys of maps exactly: labels, sysctls, driver options", () => {
    const body = { labels: { Team: "x", team: "y" }, TaskTemplate: { ContainerSpec: { SYSCTLS: { "Net.X": "1" } } } };
    expect(decodeShape(body, SERVICE_SPEC_SHAPE)).toEqual({
      Labels: { Team: "x", team: "y" },
      TaskTemplate: { ContainerSpec: { Sysctls: { "Net.X": "1" } } },
    });
  });

  it("folds as Unicode simple folding does: the Kelvin sign is a k and the long s an s", () => {
    expect(foldKey("LabelS")).toBe("labels");
    expect(foldKey("\u212aind")).toBe("kind");
    expect(decodeShape({ "Label\u017f": { a: "b" } }, NODE_SPEC_SHAPE)).toEqual({ Labels: { a: "b" } });
    expect(() => decodeShape({ Nämé: "x" }, NODE_SPEC_SHAPE)).toThrow(InvalidArgumentError);
  });

  it("prefers the exact spelling and merges a field sent twice, as Go decodes both in order", () => {
    const shape: Shape = { object: { Mode: { object: { A: "number", B: "number" } } } };
    expect(decodeShape({ Mode: { A: 1 }, mode: { B: 2 } }, shape)).toEqual({ Mode: { A: 1, B: 2 } });
    expect(decodeShape({ mode: { A: 1 }, Mode: { A: 3 } }, shape)).toEqual({ Mode: { A: 3 } });
  });

  it("still refuses what matches no field, naming the key as sent", () => {
    expect(() => decodeShape({ Mode: { replicatd: {} } }, SERVICE_SPEC_SHAPE)).toThrow(
      /Mode\.replicatd: unknown field/,
    );
    expect(() => decodeShape({ name: "n", Colour: "red" }, NETWORK_CREATE_SHAPE)).toThrow(/Colour: unknown field/);
  });

  it("names a field by Docker's spelling when its value is wrong", () => {
    expect(() => decodeShape({ mode: { replicated: { replicas: "2" } } }, SERVICE_SPEC_SHAPE)).toThrow(
      /Mode\.Replicated\.Replicas: expected a number, got a string/,
    );
    expect(() => decodeShape({ attachable: "yes" }, NETWORK_CREATE_SHAPE)).toThrow(
      /Attachable: expected a boolean, got a string/,
    );
  });

  it("keeps a key named __proto__ as data", () => {
    const decoded = decodeShape(JSON.parse('{"Labels":{"__proto__":"x"}}'), NODE_SPEC_SHAPE) as {
      Labels: Record<string, string>;
    };
    expect(Object.getPrototypeOf(decoded.Labels)).toBe(Object.prototype);
    expect(Object.keys(decoded.Labels)).toEqual(["__proto__"]);
  });
});

describe("decodeShape: values", () => {
  it("takes null as absent and checks types, arrays and finite numbers", () => {
    expect(decodeShape({ Labels: null, Role: "worker" }, NODE_SPEC_SHAPE)).toEqual({ Role: "worker" });
    expect(() => decodeShape([], NODE_SPEC_SHAPE)).toThrow(/body: expected an object, got an array/);
    expect(() => decodeShape({ TaskTemplate: { ContainerSpec: { Env: "A=1" } } }, SERVICE_SPEC_SHAPE)).toThrow(
      /TaskTemplate\.ContainerSpec\.Env: expected an array, got a string/,
    );
    expect(() => decodeShape(Number.POSITIVE_INFINITY, "number")).toThrow(/expected a finite number/);
  });
});
