import { AssignmentAction, ManualClock, silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import type { CommandResult, CommandRunner } from "../../../src/network/nat/iptables.js";
import { NatController } from "../../../src/network/nat/nat-controller.js";
import { NetworkStates } from "../../../src/network/network-states.js";
import { endpoint, networkState, vipService } from "./fixture.js";

/** iptables as a script: records each command; `-C` finds the jumps once they were inserted. */
class FakeIptables {
  readonly calls: string[] = [];
  readonly restored: string[] = [];
  readonly jumps = new Set<string>();
  failRestores = 0;

  readonly run: CommandRunner = (argv, input) => {
    const line = argv.join(" ");
    this.calls.push(line);
    const ok: CommandResult = { code: 0, stdout: "", stderr: "" };
    const jump = argv
      .slice(3)
      .filter((a) => !["-C", "-I", "-D", "1"].includes(a))
      .join(" ");
    if (argv[0] === "iptables-save") return Promise.resolve(ok);
    if (argv[0] === "iptables-restore") {
      if (this.failRestores > 0) {
        this.failRestores--;
        return Promise.resolve({ code: 1, stdout: "", stderr: "iptables-restore: line 3 failed" });
      }
      this.restored.push(input ?? "");
      return Promise.resolve(ok);
    }
    if (argv.includes("-C")) return Promise.resolve(this.jumps.has(jump) ? ok : { ...ok, code: 1 });
    if (argv.includes("-I")) this.jumps.add(jump);
    if (argv.includes("-D")) this.jumps.delete(jump);
    return Promise.resolve(ok);
  };
}

const state = (ready: boolean) =>
  networkState({
    id: "net-a",
    vni: 4100,
    subnet: "10.0.1.0/24",
    services: [vipService("web", "10.0.1.100")],
    endpoints: [endpoint("web", "10.0.1.4", "node-1", ready)],
  });

const controllers: NatController[] = [];
afterEach(async () => {
  await Promise.all(controllers.splice(0).map((c) => c.stop()));
});

function setup(): { states: NetworkStates; fake: FakeIptables; clock: ManualClock; nat: NatController } {
  const states = new NetworkStates();
  const fake = new FakeIptables();
  const clock = new ManualClock();
  const nat = new NatController({ states, nodeId: () => "node-1", logger: silentLogger(), run: fake.run, clock });
  controllers.push(nat);
  return { states, fake, clock, nat };
}

describe("NatController", () => {
  it("writes both tables for a burst of changes once, then the jumps at the top of the built-in chains", async () => {
    const { states, fake, nat } = setup();
    nat.start();
    states.apply(AssignmentAction.UPDATE, state(false));
    states.apply(AssignmentAction.UPDATE, state(true));
    await nat.idle();
    expect(fake.restored).toHaveLength(2);
    expect(fake.restored[0]).toContain("DNAT --to-destination 10.0.1.4");
    expect(fake.restored[1]).toMatch(/^\*filter\n/);
    expect(fake.calls.filter((c) => c.includes(" -I "))).toEqual([
      "iptables -w -t nat -I PREROUTING 1 -j SHOAL-PREROUTING",
      "iptables -w -t nat -I OUTPUT 1 -j SHOAL-OUTPUT",
      "iptables -w -t nat -I POSTROUTING 1 -j SHOAL-POSTROUTING",
      "iptables -w -t filter -I FORWARD 1 -j SHOAL-FORWARD",
    ]);
    expect(fake.calls).toContain("iptables-restore -w --noflush");
  });

  it("adds a jump only when `iptables -C` does not find it", async () => {
    const { states, fake, nat } = setup();
    nat.start();
    await nat.idle();
    states.apply(AssignmentAction.UPDATE, state(true));
    await nat.idle();
    expect(fake.restored).toHaveLength(4);
    expect(fake.calls.filter((c) => c.includes(" -I "))).toHaveLength(4);
  });

  it("logs a failure and retries after a backoff, without throwing into the agent", async () => {
    const { states, fake, clock, nat } = setup();
    fake.failRestores = 1;
    nat.start();
    states.apply(AssignmentAction.UPDATE, state(true));
    await expect(nat.idle()).rejects.toThrow(/iptables-restore -w --noflush failed \(1\): iptables-restore: line 3/);
    expect(fake.restored).toHaveLength(0);
    clock.advance(1_000);
    await nat.idle();
    expect(fake.restored).toHaveLength(2);
  });

  it("leaves the rules in place on stop() and follows no more changes", async () => {
    const { states, fake, nat } = setup();
    nat.start();
    states.apply(AssignmentAction.UPDATE, state(true));
    await nat.idle();
    const before = fake.calls.length;
    await nat.stop();
    states.apply(AssignmentAction.UPDATE, state(false));
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.calls.length).toBe(before);
  });

  it("remove() deletes the jumps and every SHOAL chain", async () => {
    const { states, fake, nat } = setup();
    nat.start();
    states.apply(AssignmentAction.UPDATE, state(true));
    await nat.idle();
    fake.calls.length = 0;
    await nat.remove();
    expect(fake.jumps.size).toBe(0);
    expect(fake.calls.filter((c) => c.includes(" -D "))).toHaveLength(4);
    expect(fake.calls.slice(-2)).toEqual(["iptables-restore -w --noflush", "iptables-restore -w --noflush"]);
  });
});
