// A Shoal cluster on the harness for the failover scenarios: managers and agents each on their
// own test host (so that the harness can kill, partition and cut any of them), and the test
// process on the harness gateway, which reaches every host.
//
// Manager i runs on host m<i+1> at <address>:4242 with its data dir in the host's directory, so
// that a killed manager restarts from it; spare manager hosts (beyond `managers`) stay empty until
// a test adds a manager there. Agents run on hosts a1..aN with their data dirs on their hosts.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { NodeState, RaftMembershipClient, Reachability, unaryCall, type GetInfoResponse } from "@shoal/shared";
import { createHarness, type Harness, type Host, type HostProcess } from "../harness/index.js";
import { spawnAgent, waitAgentsReady } from "../support/agents.js";
import { TestControl, testClientCredentials, useClientCertDir } from "../support/control-client.js";
import { SHOAL_BIN } from "../support/shoal-process.js";
import { waitUntil } from "../support/wait.js";

const MANAGER_PORT = 4242;

export interface FailoverClusterOptions {
  /** Managers started at once (default 3). */
  readonly managers?: number;
  /** Extra empty manager hosts, for managers that join later (default 0). */
  readonly spareManagerHosts?: number;
  /** Agent hosts (default 3). */
  readonly agents?: number;
}

export interface ManagerSlot {
  readonly index: number;
  readonly host: Host;
  readonly addr: string;
  readonly dataDir: string;
  proc: HostProcess | undefined;
}

export class FailoverCluster {
  readonly control = new TestControl();
  readonly managers: ManagerSlot[];
  readonly agentHosts: readonly Host[];
  private readonly agentProcs = new Map<string, HostProcess>();
  private tokens: { worker: string; manager: string } | undefined;

  private constructor(
    readonly harness: Harness,
    managerHosts: readonly Host[],
    agentHosts: readonly Host[],
  ) {
    this.managers = managerHosts.map((host, index) => ({
      index,
      host,
      addr: `${host.address}:${MANAGER_PORT}`,
      dataDir: join(host.dir, "manager"),
      proc: undefined,
    }));
    this.agentHosts = agentHosts;
  }

  static async start(options: FailoverClusterOptions = {}): Promise<FailoverCluster> {
    const managerCount = options.managers ?? 3;
    const managerNames = Array.from({ length: managerCount + (options.spareManagerHosts ?? 0) }, (_, i) => `m${i + 1}`);
    const agentNames = Array.from({ length: options.agents ?? 3 }, (_, i) => `a${i + 1}`);
    const harness = await createHarness({ hosts: [...managerNames, ...agentNames] });
    const cluster = new FailoverCluster(
      harness,
      managerNames.map((n) => harness.host(n)),
      agentNames.map((n) => harness.host(n)),
    );
    try {
      // Managers need no Docker; the agents' dockerds pull the base image once, now.
      await Promise.all([
        ...cluster.managers.map((m) => m.host.stopDocker(5000)),
        ...cluster.agentHosts.map((h) => h.docker(["pull", "--quiet", harness.baseImage])),
      ]);
      for (let i = 0; i < managerCount; i++) await cluster.addManager(i);
      for (const host of cluster.agentHosts) cluster.startAgent(host);
      await cluster.waitAgentsReady(cluster.agentHosts);
    } catch (err: unknown) {
      await cluster.dispose().catch(() => undefined);
      throw err;
    }
    return cluster;
  }

  /** Addresses of the managers that are members (running or not): what clients are given. */
  get addrs(): string[] {
    return this.managers.filter((m) => m.proc !== undefined).map((m) => m.addr);
  }

  get baseImage(): string {
    return this.harness.baseImage;
  }

  agentHost(name: string): Host {
    return this.harness.host(name);
  }

  /** Founds the cluster (slot 0) or joins it through a running member, and waits until it is a member. */
  async addManager(index: number): Promise<void> {
    const slot = this.managers[index]!;
    await rm(slot.dataDir, { recursive: true, force: true });
    const extra: string[] = [];
    const founding = this.running().length === 0;
    if (!founding) {
      const via = (await this.leader()).addr;
      extra.push("--join", via, "--token", (await this.joinTokens()).manager);
    }
    // The founder writes the admin client certificate: the suite's (mutual TLS) from now on.
    if (founding) useClientCertDir(join(slot.dataDir, "client"));
    this.spawnManager(slot, extra);
    await waitUntil(
      `manager ${slot.host.name} to be a member`,
      async () => {
        const info = await this.info(slot);
        return (
          info !== undefined && info.raft!.members.some((m) => m.member?.addr === slot.addr) && info.leaderAddr !== ""
        );
      },
      30_000,
    );
    if (index === 0) await this.joinTokens();
  }

  /** Starts a killed manager again from its data dir. */
  restartManager(slot: ManagerSlot): void {
    if (slot.proc?.running) throw new Error(`manager ${slot.host.name} is running`);
    this.spawnManager(slot, []);
  }

  /** Starts a manager from its data dir with more arguments (e.g. --force-new-cluster). */
  startManagerWith(slot: ManagerSlot, args: readonly string[]): void {
    if (slot.proc?.running) throw new Error(`manager ${slot.host.name} is running`);
    this.spawnManager(slot, args);
  }

  private spawnManager(slot: ManagerSlot, extra: readonly string[]): void {
    slot.proc = slot.host.spawn(process.execPath, [
      SHOAL_BIN,
      "manager",
      "--listen",
      slot.addr,
      "--data-dir",
      slot.dataDir,
      "--log-level",
      "info",
      ...extra,
    ]);
  }

  async killManager(slot: ManagerSlot): Promise<void> {
    const proc = slot.proc;
    if (!proc?.running) return;
    proc.kill("SIGKILL");
    await proc.exited;
  }

  /** Managers whose process runs. */
  running(): ManagerSlot[] {
    return this.managers.filter((m) => m.proc?.running === true);
  }

  info(slot: ManagerSlot, timeoutMs = 1000): Promise<GetInfoResponse | undefined> {
    return this.control.call(slot.addr, "getInfo", {}, timeoutMs).catch(() => undefined);
  }

  /** The manager that says it leads, among those running (and `among`, when given); polls until one does. */
  async leader(among: readonly ManagerSlot[] = this.managers, timeoutMs = 20_000): Promise<ManagerSlot> {
    let found: ManagerSlot | undefined;
    await waitUntil(
      "a leader",
      async () => {
        const infos = await Promise.all(
          among.map(async (m) => (m.proc?.running ? ((await this.info(m, 500))?.isLeader ?? false) : false)),
        );
        found = among[infos.indexOf(true)];
        return found !== undefined;
      },
      timeoutMs,
    );
    return found!;
  }

  /** Waits until every running manager has the same leader and has applied what it committed. */
  async waitManagersInSync(timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      "managers in sync",
      async () => {
        const infos = await Promise.all(this.running().map((m) => this.info(m, 1000)));
        if (infos.some((i) => i === undefined)) return false;
        const leaders = new Set(infos.map((i) => i!.raft!.leaderRaftId));
        const applied = new Set(infos.map((i) => i!.raft!.appliedIndex));
        return leaders.size === 1 && !leaders.has(0) && applied.size === 1;
      },
      timeoutMs,
    );
  }

  /** Waits until `slot` follows a leader that counts it as reachable and up to date enough to vote. */
  async waitFollower(slot: ManagerSlot, timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      `manager ${slot.host.name} to follow`,
      async () => {
        const own = await this.info(slot, 500);
        if (!own || own.isLeader || own.leaderAddr === "") return false;
        const leader = this.managers.find((m) => m.addr === own.leaderAddr);
        const view = leader && (await this.info(leader, 500));
        const me = view?.raft?.members.find((m) => m.member?.addr === slot.addr);
        return me?.reachability === Reachability.REACHABLE && me.matchIndex > 0;
      },
      timeoutMs,
    );
  }

  /** Service names as each running manager lists them (a linearizable read on each). */
  async serviceNamesPerManager(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const m of this.running()) {
      const { services } = await this.control.call(
        m.addr,
        "listServices",
        { filters: undefined, includeStatus: false },
        10_000,
      );
      out.set(m.host.name, services.map((s) => s.spec?.annotations?.name ?? "").sort());
    }
    return out;
  }

  /** Removes a (dead) manager from the raft group, through the leader. */
  async removeManager(slot: ManagerSlot): Promise<void> {
    const leader = await this.leader();
    const info = await this.info(leader);
    const member = info?.raft?.members.find((m) => m.member?.addr === slot.addr)?.member;
    if (member === undefined) throw new Error(`${slot.addr} is not a member`);
    const { credentials, options } = testClientCredentials();
    const client = new RaftMembershipClient(leader.addr, credentials, options);
    try {
      await unaryCall(client, "leave", { raftId: member.raftId }, { timeoutMs: 20_000 });
    } finally {
      client.close();
    }
    slot.proc = undefined;
  }

  async joinTokens(): Promise<{ worker: string; manager: string }> {
    if (this.tokens) return this.tokens;
    let tokens: { worker: string; manager: string } | undefined;
    await waitUntil("join tokens", async () => {
      const { cluster } = await this.control.call((await this.leader()).addr, "getCluster", { clusterId: "" }, 1000);
      const t = cluster?.rootJoinTokens;
      if (t?.worker && t.manager) tokens = { worker: t.worker, manager: t.manager };
      return tokens !== undefined;
    });
    this.tokens = tokens;
    return tokens!;
  }

  startAgent(host: Host): void {
    if (this.agentProcs.get(host.name)?.running) throw new Error(`agent ${host.name} is running`);
    const managers = this.managers.slice(0, 3).map((m) => m.addr);
    const token = this.tokens?.worker ?? "";
    this.agentProcs.set(host.name, spawnAgent(host, { managers, token, args: ["--log-level", "info"] }));
  }

  async killAgent(host: Host): Promise<void> {
    const proc = this.agentProcs.get(host.name);
    if (!proc?.running) return;
    proc.kill("SIGKILL");
    await proc.exited;
  }

  agentRunning(host: Host): boolean {
    return this.agentProcs.get(host.name)?.running === true;
  }

  /** Node states by hostname, as the leader has them. */
  async nodeStates(): Promise<Map<string, NodeState>> {
    const { nodes } = await this.control.call((await this.leader()).addr, "listNodes", { filters: undefined }, 3000);
    return new Map(nodes.map((n) => [n.description?.hostname ?? "", n.status?.state ?? NodeState.UNKNOWN]));
  }

  /** Waits until the leader (whichever it is at each try) lists the agents of `hosts` as ready. */
  async waitAgentsReady(hosts: readonly Host[], timeoutMs = 30_000): Promise<void> {
    await waitAgentsReady(
      hosts.map((h) => h.name),
      { control: this.control, via: async () => (await this.leader()).addr, timeoutMs },
    );
  }

  async dispose(): Promise<void> {
    this.control.close();
    await this.harness.dispose();
  }
}
