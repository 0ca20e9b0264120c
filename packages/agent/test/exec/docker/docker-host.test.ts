import { describe, expect, it } from "vitest";
import { dockerOptions } from "@shoal/agent";

describe("dockerOptions", () => {
  it("reads DOCKER_HOST-style addresses", () => {
    expect(dockerOptions()).toEqual({ socketPath: "/var/run/docker.sock" });
    expect(dockerOptions("unix:///run/h1/docker.sock")).toEqual({ socketPath: "/run/h1/docker.sock" });
    expect(dockerOptions("/tmp/d.sock")).toEqual({ socketPath: "/tmp/d.sock" });
    expect(dockerOptions("tcp://10.0.0.2:2375")).toEqual({ protocol: "http", host: "10.0.0.2", port: 2375 });
    expect(dockerOptions("tcp://docker")).toEqual({ protocol: "http", host: "docker", port: 2375 });
    expect(dockerOptions("https://docker:2376")).toEqual({ protocol: "https", host: "docker", port: 2376 });
    expect(dockerOptions("tcp://[::1]:2375")).toEqual({ protocol: "http", host: "::1", port: 2375 });
  });

  it("refuses what it cannot use", () => {
    expect(() => dockerOptions("ssh://me@host")).toThrow(/unsupported docker host/);
    expect(() => dockerOptions("not a url")).toThrow(/not a docker host address/);
  });
});
