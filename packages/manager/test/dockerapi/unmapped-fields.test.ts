import { describe, expect, it } from "vitest";
import {
  UNMAPPED_LABEL,
  mergeUnder,
  unmappedFields,
  unmappedSpecFields,
  visibleLabels,
} from "../../src/dockerapi/unmapped-fields.js";

describe("unmapped Docker fields", () => {
  it("keeps only what Shoal does not map, down to nested fields", () => {
    expect(
      unmappedSpecFields({
        Name: "web",
        TaskTemplate: { ContainerSpec: { Image: "x:1", Init: true, Privileges: {} }, Networks: [{ Target: "n" }] },
        EndpointSpec: { Mode: "dnsrr", Ports: [] },
      }),
    ).toEqual({
      TaskTemplate: { ContainerSpec: { Privileges: {} } },
    });
    expect(unmappedSpecFields({ Name: "web", Mode: { Replicated: { Replicas: 2 } } })).toBeUndefined();
  });

  it("merges them under the mapped fields, which win", () => {
    expect(mergeUnder({ A: 1, B: { C: 2 } }, { A: 9, B: { C: 9, D: 3 }, E: 4 })).toEqual({
      A: 1,
      B: { C: 2, D: 3 },
      E: 4,
    });
    expect(mergeUnder({ A: 1 }, "not an object")).toEqual({ A: 1 });
  });

  it("reads them from the reserved label, which Docker clients never see", () => {
    const labels = { team: "x", [UNMAPPED_LABEL]: JSON.stringify({ TaskTemplate: { Networks: [] } }) };
    expect(unmappedFields(labels)).toEqual({ TaskTemplate: { Networks: [] } });
    expect(visibleLabels(labels)).toEqual({ team: "x" });
    expect(unmappedFields({ [UNMAPPED_LABEL]: "{not json" })).toBeUndefined();
    expect(unmappedFields({ [UNMAPPED_LABEL]: "[1]" })).toBeUndefined();
    expect(unmappedFields(undefined)).toBeUndefined();
  });
});
