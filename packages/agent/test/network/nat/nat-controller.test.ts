import { AssignmentAction, ManualClock, silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { CommandFailedError, type CommandRunner, type CommandStatus } from "../../../src/network/command-runner.js";
import { NatController } from "../../../src/network/nat/nat-controller.js";
import { NetworkStates } from "../../../src/network/network-states.js";
import { endpoint, networkState, vipService } from "./fixture.js";

/** iptables as a script: records each command and keeps the built-in chains' rules as lists. */
class FakeIptables {
  readonly calls: string[] = [];
  readonly restored: string[] = [];
  /** "table CHAIN" -> its rules ("-j TARGET"), first first. */
  readonly chains = new Map<string, string[]>();
  failRestores = 0;

  readonly run: CommandRunner = async (command, args, input) => {
    const argv = [command, ...args];
    const r = await this.status(argv, input);
    if (r.code !== 0) throw new CommandFailedError(argv, r.code, r.stderr);
    return { stdout: r.stdout };
  };

  private status(argv: readonly string[], input?: string): Promise<CommandStatus> {
    this.calls.push(argv.join(" "));
    const ok: CommandStatus = { code: 0, stdout: "", stderr: "" };
    if (argv[0] === "iptables-save") return Promise.resolve(ok);
    // `ip -o -d link show master BRIDGE`: no bridge (the data plane has not made it).
    if (argv[0] === "ip") return Promise.resolve({ code: 1, stdout: "", stderr: "Device does not exist" });
    if (argv[0] === "iptables-restore") {
      if (this.failRestores > 0) {
        this.failRestores--;
        return Promise.resolve({ code: 1, stdout: "", stderr: "iptables-restore: line 3 failed" });
      }
      this.restored.push(input ?? "");
      return Promise.resolve(ok);
    }
    // iptables -w -t TABLE OP CHAIN [1] [-j TARGET]
    const [, , , table, op, chain] = argv;
    const rules = this.rules(`${table} ${chain}`);
    const rule = argv.slice(argv.indexOf("-j")).join(" ");
    if (op === "-S") return Promise.resolve({ ...ok, stdout: rules[0] ? `-A ${chain} ${rules[0]}\n` : "" });
    if (op === "-C") return Promise.resolve({ ...ok, code: rules.includes(rule) ? 0 : 1 });
    if (op === "-I") rules.unshift(rule);
    if (op === "-D") rules.splice(rules.indexOf(rule), 1);
    return Promise.resolve(ok);
  }

  rules(chain: string): string[] {
    const rules = this.chains.get(chain) ?? [];
    this.chains.set(chain, rules);
    return rules;
  }
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

  it("adds each jump once, and moves it back to the top when a rule was inserted above it", async () => {
    const { states, fake, nat } = setup();
    nat.start();
    states.replaceAll([]);
    await nat.idle();
    states.apply(AssignmentAction.UPDATE, state(true));
    await nat.idle();
    expect(fake.restored).toHaveLength(4);
    expect(fake.calls.filter((c) => c.includes(" -I "))).toHaveLength(4);
    // Docker makes a network: its rules go on top.
    fake.rules("filter FORWARD").unshift("-i shb4100 ! -o shb4100 -j ACCEPT");
    nat.resync();
    await nat.idle();
    expect(fake.rules("filter FORWARD")).toEqual(["-j SHOAL-FORWARD", "-i shb4100 ! -o shb4100 -j ACCEPT"]);
    expect(fake.rules("nat PREROUTING")).toEqual(["-j SHOAL-PREROUTING"]);
  });

  it("writes nothing before the states are first set (a restarted agent keeps the tasks' rules)", async () => {
    const { states, fake, clock, nat } = setup();
    nat.start();
    clock.advance(60_000);
    nat.resync();
    await nat.idle();
    expect(fake.calls).toEqual([]);
    states.replaceAll([]);
    await nat.idle();
    expect(fake.restored).toHaveLength(2);
  });

  it("syncs at start when the states are already set, and again every 30 s", async () => {
    const { states, fake, clock, nat } = setup();
    states.replaceAll([state(true)]);
    nat.start();
    await nat.idle();
    expect(fake.restored).toHaveLength(2);
    clock.advance(30_000);
    await nat.idle();
    expect(fake.restored).toHaveLength(4);
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
    for (const rules of fake.chains.values()) expect(rules).toEqual([]);
    expect(fake.calls.filter((c) => c.includes(" -D "))).toHaveLength(4);
    expect(fake.calls.slice(-2)).toEqual(["iptables-restore -w --noflush", "iptables-restore -w --noflush"]);
  });

  it("after remove(), writes nothing until the node has a network again", async () => {
    const { states, fake, clock, nat } = setup();
    nat.start();
    states.replaceAll([]);
    await nat.idle();
    await nat.remove();
    const removed = fake.restored.length;
    clock.advance(30_000);
    states.replaceAll([]);
    await nat.idle();
    expect(fake.restored).toHaveLength(removed);
    states.apply(AssignmentAction.UPDATE, state(true));
    await nat.idle();
    expect(fake.restored).toHaveLength(removed + 2);
    expect(fake.rules("filter FORWARD")).toEqual(["-j SHOAL-FORWARD"]);
  });
});
