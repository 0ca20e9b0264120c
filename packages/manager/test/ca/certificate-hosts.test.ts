import { describe, expect, it } from "vitest";
import { certificateHosts } from "../../src/ca/certificate-hosts.js";

describe("certificateHosts", () => {
  it("keeps the hosts of the addresses, besides the loopback names", () => {
    expect(certificateHosts(["10.0.0.5:4242", "[fd00::5]:2375", undefined, "node-a.example:1"])).toEqual([
      "127.0.0.1",
      "localhost",
      "10.0.0.5",
      "fd00::5",
      "node-a.example",
    ]);
  });

  it("leaves out wildcards and repeats", () => {
    expect(certificateHosts(["0.0.0.0:4242", "[::]:2375", "127.0.0.1:1", ":80"])).toEqual(["127.0.0.1", "localhost"]);
  });
});
