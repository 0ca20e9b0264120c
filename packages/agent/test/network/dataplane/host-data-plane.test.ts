import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { FakeExecutor } from "../../../src/exec/fake/fake-executor.js";
import type { Executor } from "../../../src/exec/executor.js";
import type { HostNetworks } from "../../../src/exec/host-networks.js";
import { hostOf, resolveDataPathAddr } from "../../../src/network/dataplane/data-path-addr.js";
import { startHostDataPlane } from "../../../src/network/dataplane/host-data-plane.js";
import { NetworkStates } from "../../../src/network/network-states.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const hostNetworks: HostNetworks = {
  ensure: () => Promise.resolve(),
  list: () => Promise.resolve([]),
  remove: () => Promise.resolve(true),
  setReadiness: () => undefined,
};

function options(executor: Executor, lockPath: string): Parameters<typeof startHostDataPlane>[0] {
  return {
    executor,
    states: new NetworkStates(),
    managers: ["192.0.2.1:4242"],
    nodeId: () => "node-1",
    logger: silentLogger(),
    dataPathAddr: () => Promise.resolve("192.0.2.11"),
    lockPath,
    runner: () => Promise.resolve({ stdout: "[]" }),
  };
}

describe("startHostDataPlane", () => {
  it("runs one data plane per host: the lock's holder only, until it stops", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shoal-dp-"));
    dirs.push(dir);
    const lock = join(dir, "dataplane.lock");
    const executor = Object.assign(new FakeExecutor(), { hostNetworks }) as Executor;
    const first = startHostDataPlane(options(executor, lock));
    expect(first).toBeDefined();
    expect(startHostDataPlane(options(executor, lock))).toBeUndefined();
    await first?.stop();
    const next = startHostDataPlane(options(executor, lock));
    expect(next).toBeDefined();
    await next?.stop();
  });

  it("runs none on a runtime without bridge networks", () => {
    expect(startHostDataPlane(options(new FakeExecutor(), "/nonexistent/x.lock"))).toBeUndefined();
  });
});

describe("the data-path address", () => {
  it("is --data-path-addr when given, else the source address towards the first manager", async () => {
    expect(hostOf("10.1.2.3:4242")).toBe("10.1.2.3");
    expect(hostOf("[fd00::1]:4242")).toBe("fd00::1");
    const asked: string[] = [];
    const runner = (_cmd: string, args: readonly string[]): Promise<{ stdout: string }> => {
      asked.push(args.join(" "));
      return Promise.resolve({ stdout: '[{"dst":"10.1.2.3","dev":"eth0","prefsrc":"10.1.2.9"}]' });
    };
    expect(await resolveDataPathAddr("10.9.9.9", ["10.1.2.3:4242"], runner)).toBe("10.9.9.9");
    expect(await resolveDataPathAddr("", ["10.1.2.3:4242"], runner)).toBe("10.1.2.9");
    expect(asked).toEqual(["-j route get 10.1.2.3"]);
  });
});
