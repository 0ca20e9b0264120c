import { describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "@shoal/shared";
import { MetricsComponent } from "../../src/metrics/metrics-component.js";
import { MemoryStore } from "../../src/state/store/index.js";

const options = (listen: string | undefined) => ({
  listen,
  store: new MemoryStore(),
  raft: { node: undefined },
  credentials: { nodeId: "m1" },
  logger: silentLogger(),
  clock: systemClock,
});

describe("MetricsComponent", () => {
  it("is off when no address is given", async () => {
    const part = new MetricsComponent(options(undefined));
    await part.run();
    expect(part.address).toBe("");
    await part.stop();
  });

  it("serves /metrics until stopped; stop is idempotent", async () => {
    const part = new MetricsComponent(options("127.0.0.1:0"));
    await part.run();
    expect(part.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://${part.address}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/node_id="m1"/);
    await Promise.all([part.stop(), part.stop()]);
    await expect(fetch(`http://${part.address}/metrics`)).rejects.toThrow();
  });
});
