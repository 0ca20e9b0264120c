// The manager's host as Docker describes its engine's.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeArch, openFileCount, readOsRelease } from "../../src/dockerapi/host.js";

describe("readOsRelease", () => {
  it("reads the pretty name and version, quoted or not", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-os-release-"));
    try {
      const path = join(dir, "os-release");
      await writeFile(path, 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID=12\n');
      expect(await readOsRelease(path)).toEqual({ prettyName: "Debian GNU/Linux 12 (bookworm)", versionId: "12" });
      expect(await readOsRelease(join(dir, "none"))).toEqual({ prettyName: "", versionId: "" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("nodeArch", () => {
  it("names architectures as the kernel does, as Docker shows them in node descriptions", () => {
    expect(nodeArch("amd64")).toBe("x86_64");
    expect(nodeArch("arm64")).toBe("aarch64");
    expect(nodeArch("s390x")).toBe("s390x");
  });
});

describe("openFileCount", () => {
  it("counts this process's open files", async () => {
    expect(await openFileCount()).toBeGreaterThan(0);
  });
});
