import { describe, expect, it } from "vitest";
import { ServiceSpec, type DeepPartial } from "@shoal/shared";
import { MemoryStore } from "@shoal/manager";
import { createService, updateService } from "../../src/controlapi/services.js";

const spec = (patch: DeepPartial<ServiceSpec> = {}): ServiceSpec =>
  ServiceSpec.fromPartial({
    annotations: { name: "web" },
    taskTemplate: { container: { image: "shoal-base:1" } },
    mode: { $case: "replicated", value: { replicas: 2 } },
    ...patch,
  });

describe("services in the Control API", () => {
  it("counts spec versions for changes of what tasks run, not for scaling", async () => {
    const store = new MemoryStore();
    const created = (await createService(store, { spec: spec() })).service!;
    expect(created.specVersion?.index).toBe(1);

    const scaled = (
      await updateService(store, {
        serviceId: created.id,
        serviceVersion: created.meta?.version,
        spec: spec({ mode: { $case: "replicated", value: { replicas: 5 } } }),
        rollback: false,
      })
    ).service!;
    expect(scaled.specVersion?.index).toBe(1);
    expect(scaled.previousSpec).toBeUndefined();

    const newImage = (
      await updateService(store, {
        serviceId: created.id,
        serviceVersion: scaled.meta?.version,
        spec: spec({ taskTemplate: { container: { image: "shoal-base:2" } } }),
        rollback: false,
      })
    ).service!;
    expect(newImage.specVersion?.index).toBe(2);
    expect(newImage.previousSpec?.taskTemplate?.container?.image).toBe("shoal-base:1");
  });

  it("refuses an update based on an older version, and changes nothing", async () => {
    const store = new MemoryStore();
    const created = (await createService(store, { spec: spec() })).service!;
    await updateService(store, {
      serviceId: "web",
      serviceVersion: created.meta?.version,
      spec: spec(),
      rollback: false,
    });
    await expect(
      updateService(store, {
        serviceId: "web",
        serviceVersion: created.meta?.version,
        spec: spec({ mode: { $case: "replicated", value: { replicas: 9 } } }),
        rollback: false,
      }),
    ).rejects.toMatchObject({ code: "SEQUENCE_CONFLICT" });
    const mode = store.view((tx) => tx.services.get(created.id))!.spec!.mode;
    expect(mode?.$case === "replicated" && mode.value.replicas).toBe(2);
  });
});
