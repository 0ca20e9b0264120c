import { describe, expect, it } from "vitest";
import { LogsService, silentLogger, type TlsMaterial, systemClock } from "@shoal/shared";
import { LogBrokerComponent } from "../../src/logs/log-broker-component.js";
import { MemoryStore } from "../../src/state/store/index.js";

describe("LogBrokerComponent", () => {
  it("serves Logs, and stops idempotently, also without having run", async () => {
    const added: unknown[] = [];
    const options = {
      server: { addService: (def: unknown) => void added.push(def) },
      store: new MemoryStore(),
      credentials: { material: {} as TlsMaterial },
      raft: { isLeader: false, leaderAddr: () => undefined },
      logger: silentLogger(),
      clock: systemClock,
    };
    new LogBrokerComponent(options).stop();
    const part = new LogBrokerComponent(options);
    await part.run();
    expect(added).toEqual([LogsService]);
    part.stop();
    part.stop();
  });
});
