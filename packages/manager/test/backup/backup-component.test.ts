import { describe, expect, it } from "vitest";
import { BackupService, systemClock } from "@shoal/shared";
import { BackupComponent } from "../../src/backup/backup-component.js";
import { MemoryStore } from "../../src/state/store/index.js";

describe("BackupComponent", () => {
  it("serves Backup", async () => {
    const added: unknown[] = [];
    const part = new BackupComponent({
      clock: systemClock,
      server: { addService: (def) => void added.push(def) },
      store: new MemoryStore(),
      raft: { node: undefined },
      credentials: { nodeId: "m1" },
    });
    await part.run();
    expect(added).toEqual([BackupService]);
    part.stop();
  });
});
