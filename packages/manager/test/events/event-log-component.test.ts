import { describe, expect, it } from "vitest";
import { EventsService, ManualClock, Node, silentLogger } from "@shoal/shared";
import { EventLogComponent } from "../../src/events/event-log-component.js";
import { MemoryStore } from "../../src/state/store/index.js";

describe("EventLogComponent", () => {
  it("watches the store from its start, serves Events, and ends listeners when stopped", async () => {
    const added: unknown[] = [];
    const store = new MemoryStore();
    const part = new EventLogComponent({
      server: { addService: (def) => void added.push(def) },
      store,
      clock: new ManualClock(1_000_000),
      logger: silentLogger(),
    });
    await part.run();
    expect(added).toEqual([EventsService]);
    const listener = part.events.listen();
    await store.update((tx) => tx.nodes.create(Node.fromPartial({ id: "n1", spec: {} })));
    const events = await listener.next();
    expect(events?.length).toBeGreaterThan(0);
    await part.stop();
    await part.stop();
    await expect(listener.next()).resolves.toBeUndefined();
  });
});
