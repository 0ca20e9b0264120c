import { describe, expect, it } from "vitest";
import { enginePlugins } from "../../../src/exec/docker/docker-executor.js";

describe("enginePlugins", () => {
  it("lists docker info's plugins by type, then name, as Docker describes a swarm node's", () => {
    expect(
      enginePlugins({ Volume: ["local"], Network: ["overlay", "bridge"], Log: ["json-file"], Authorization: null }),
    ).toEqual([
      { type: "Log", name: "json-file" },
      { type: "Network", name: "bridge" },
      { type: "Network", name: "overlay" },
      { type: "Volume", name: "local" },
    ]);
    expect(enginePlugins(undefined)).toEqual([]);
  });
});
