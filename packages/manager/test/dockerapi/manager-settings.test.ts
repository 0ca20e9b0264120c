// The Raft and dispatcher settings the Docker API shows as the swarm's: the serving manager's own.
import { describe, expect, it } from "vitest";
import { DEFAULT_MANAGER_SETTINGS, managerSettings } from "../../src/dockerapi/manager-settings.js";

describe("managerSettings", () => {
  it("gives a manager's defaults when it was started without options", () => {
    expect(DEFAULT_MANAGER_SETTINGS).toEqual({
      snapshotInterval: 10_000,
      keepOldSnapshots: 2,
      logEntriesForSlowFollowers: 1000,
      electionTick: 10,
      heartbeatTick: 1,
      heartbeatPeriodMs: 1000,
    });
  });

  it("follows the options the manager was started with", () => {
    expect(managerSettings({ raft: { snapshotInterval: 200, electionTick: 20 }, heartbeatPeriodMs: 250 })).toEqual({
      snapshotInterval: 200,
      keepOldSnapshots: 2,
      logEntriesForSlowFollowers: 200,
      electionTick: 20,
      heartbeatTick: 1,
      heartbeatPeriodMs: 250,
    });
  });
});
