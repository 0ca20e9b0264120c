/**
 * Multi-host test harness: real hosts for end-to-end tests, made of Linux network namespaces.
 *
 * ```ts
 * let harness: Harness;
 * beforeAll(async () => { harness = await createHarness({ hosts: 3 }); });  // ~0.6 s
 * afterAll(async () => { await harness?.dispose(); });                      // ~0.2 s
 *
 * const [h1, h2, h3] = harness.hosts;
 * const manager = h1.spawn("node", ["/work/main/packages/cli/bin/shoal.mjs", "manager", ...],
 *   { env: { DOCKER_HOST: h1.dockerHost } });   // stdout+stderr appended to h1.logFile
 * await h2.exec("busybox", ["wget", "-q", "-O-", `http://${h1.address}:8080/`]);
 * await h2.docker(["run", "--rm", harness.baseImage, "echo", "hi"]);
 * await h1.partition(); await h1.heal();        // pull / plug back h1's cable
 * await harness.cut(h1, h2); await harness.uncut(h1, h2);   // one pair only
 * await h1.setLoss(0.2); await h1.setLoss(0);   // lossy link (no netem in this kernel)
 * await h1.setDelay(50, 10); await h1.setDelay(0); // slow link: 50 ± 10 ms each way (NFQUEUE)
 * await h3.kill(); await h3.startDocker();      // the machine dies; it boots again
 * ```
 *
 * Faults. partition(): the switch end of the host's veth goes down; every packet to or from the
 * host is lost silently, both ways, established connections included (they stall, and resume
 * after heal()); the host is cut from everyone, the test process and the registry included.
 * cut(a, b): iptables DROP of the peer's address on INPUT inside both hosts; silent, other pairs
 * unaffected. setLoss(p): random DROP of the host's frames in the switch namespace.
 * setDelay(ms, jitterMs): every IPv4 frame crossing the host's cable waits ms ± jitterMs, each
 * way; between two delayed hosts the delays add up (one-way a -> b = delay(a) + delay(b)); order
 * between two hosts is kept. No netem here either: a python3 NFQUEUE listener in the switch
 * namespace holds the frames (link-delay.ts says what it cannot do). kill():
 * SIGKILL to every process in the host's namespace and their descendants (dockerd, containerd,
 * shims, containers, spawned processes); the data root stays, so startDocker() is a reboot.
 *
 * Layout of a run (id: 6 characters [a-z0-9]):
 * - subnet 10.213.X.0/24 (X leased per run); `.1` is the harness side (initial namespace,
 *   interface `shoalgw-<run>`), where the registry listens on port 5000; host i is `.11+i`.
 * - the bridge `shoalbr-<run>` lives in its own namespace `shoal-t-<run>-sw`: in the initial
 *   namespace br_netfilter would push bridged frames through Docker's FORWARD DROP policy.
 *   IP forwarding is neither needed nor touched; nothing is added to the initial namespace's
 *   iptables.
 * - host NAME: namespace `shoal-t-<run>-NAME` with `eth0`; dockerd started with
 *   `nsenter --net=/run/netns/...`, with its own data root, exec root (and managed containerd),
 *   socket, pid file, trust key (distinct engine ID), `cgroup-parent`, `bridge: none`,
 *   `iptables: false`, and the registry as insecure registry. Containers run with
 *   `--network host` share the host's address; with the default network they have none.
 * - files under /tmp/shoal-harness/<run>/ (SHOAL_HARNESS_ROOT); `owner.json` names the owning
 *   process, `pids` journals every process started. Each createHarness() first removes the runs
 *   whose owner died (scripts/clean-harness.sh does the same by hand). Set
 *   SHOAL_HARNESS_KEEP_LOGS=DIR to keep the logs of each run in DIR/<run>/.
 *
 * Requirements (checked at setup; the error says what to install): root; dockerd, containerd,
 * runc, docker (docker.io); docker-registry; a static /bin/busybox (busybox-static); nsenter
 * (util-linux); ip (iproute2); iptables; a Docker daemon on the default socket (it builds the
 * base image); for setDelay only, python3. No network access.
 *
 * Exports:
 * - createHarness(options?: HarnessOptions): Promise<Harness>
 * - Harness: runId, dir, subnet, gateway, registry, baseImage, hosts; host(name),
 *   pushImage(localTag, repository?): Promise<string>, cut(a, b), uncut(a, b),
 *   split(...groups), healAll(), dispose()
 * - Host: name, index, address, netns, netnsPath, dir, dockerSocket, dockerHost, logFile,
 *   dockerdLogFile, dockerdRunning, dockerdPid, partitioned, loss;
 *   exec(cmd, args?, options?: CommandOptions): Promise<CommandResult>,
 *   spawn(cmd, args?, options?: SpawnOptions): HostProcess,
 *   docker(args, options?): Promise<CommandResult>, startDocker(), stopDocker(graceMs?),
 *   restartDocker(), processes(): ProcessRef[], kill(), partition(), heal(), setLoss(p),
 *   delay, setDelay(ms, jitterMs?)
 * - HostProcess: pid, ref, child, logFile, command, exited: Promise<ExitStatus>, running,
 *   status; kill(signal = "SIGKILL"), stop(graceMs?): Promise<ExitStatus>
 * - runCommand(file, args, options?): Promise<CommandResult>; CommandOptions, CommandResult
 * - HarnessError (code: HarnessErrorCode), CommandError (exitCode, signal, stdout, stderr)
 * - checkPrerequisites(probe?): Tools; sweepStaleRuns(tools, { includeLive? })
 * - ensureBaseImage(socket?, tag?), BASE_IMAGE
 * - types: HarnessOptions, SpawnOptions, ExitStatus, ProcessRef, PrerequisiteProbe, Tools
 */
export { createHarness, Harness, type HarnessOptions } from "./harness.js";
export { Host } from "./host.js";
export { HostProcess, type ExitStatus, type SpawnOptions } from "./host-process.js";
export { runCommand, type CommandOptions, type CommandResult } from "./command.js";
export { HarnessError, CommandError, type HarnessErrorCode } from "./errors.js";
export { checkPrerequisites, type PrerequisiteProbe, type Tools } from "./prerequisites.js";
export { sweepStaleRuns } from "./cleanup.js";
export { ensureBaseImage, BASE_IMAGE } from "./image.js";
export type { ProcessRef } from "./processes.js";
export type { LinkDelay } from "./link-delay.js";
