// shoal cluster ca [--rotate [--detach]]: the cluster's root CA certificate, and its rotation
// (`docker swarm ca --rotate`).
//
// Without flags: the root certificate (PEM) on stdout, and on stderr the progress of a rotation
// that runs. With --rotate: starts a rotation (a new root cross-signed by the old one; every node
// renews from the new key; then the new root alone is trusted and the join tokens change), and
// follows it until it ends, unless --detach. The rotation goes on in the cluster whatever happens
// to this command.
import { ErrorCode, ShoalError, isShoalError, pki, type Cluster, type RootCA } from "@shoal/shared";
import { rotationProgress, type RotationProgress } from "@shoal/manager";
import type { Command } from "commander";
import { Control, MANAGER_HELP, managerAddresses } from "../client.js";
import { allNodes } from "../list.js";

export interface RootCaState {
  readonly cluster: Cluster;
  readonly rootCa: RootCA;
  /** PEM of the current root. */
  readonly rootPem: string;
  readonly digest: string;
  /** Set while a rotation runs. */
  readonly progress: RotationProgress | undefined;
}

/** The cluster's CA and, during a rotation, how many nodes and managers have renewed. */
export async function readRootCa(control: Pick<Control, "call">): Promise<RootCaState> {
  const { cluster } = await control.call("getCluster", { clusterId: "" });
  const rootCa = cluster?.rootCa;
  if (!cluster || !rootCa || rootCa.caCert.length === 0) {
    throw new ShoalError(ErrorCode.FailedPrecondition, "the cluster has no certificate authority yet");
  }
  let progress: RotationProgress | undefined;
  if ((rootCa.rootRotation?.caCert.length ?? 0) > 0) {
    const nodes = await allNodes(control);
    const info = await control.call("getInfo", {});
    const managers = (info.raft?.members ?? []).map((m) => m.member?.nodeId ?? "").filter((id) => id !== "");
    progress = rotationProgress(rootCa, nodes, managers);
  }
  const rootPem = Buffer.from(rootCa.caCert).toString("utf8");
  return { cluster, rootCa, rootPem, digest: rootCa.caCertDigest || pki.caDigest(rootPem), progress };
}

/** One line of progress: "rotating the root CA to 1a2b3c4d5e6f: 4/6 renewed (waiting for n1, n2)". */
export function progressLine(progress: RotationProgress): string {
  const waiting = progress.pending.slice(0, 5).join(", ") + (progress.pending.length > 5 ? ", ..." : "");
  return (
    `rotating the root CA to ${progress.newDigest.slice(0, 12)}: ${progress.done}/${progress.total} nodes and managers renewed` +
    (progress.pending.length > 0 ? ` (waiting for ${waiting})` : "")
  );
}

export interface RotateOptions {
  readonly detach?: boolean;
  readonly out?: NodeJS.WritableStream;
  readonly intervalMs?: number;
  /** Give up following after this long (the rotation goes on); default 10 minutes. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const TRANSIENT: readonly string[] = [ErrorCode.Unavailable, ErrorCode.NotLeader, ErrorCode.DeadlineExceeded];

/** Starts a root rotation and, unless detached, follows it to its end; returns the new root's PEM. */
export async function rotateRootCa(control: Pick<Control, "call">, options: RotateOptions = {}): Promise<string> {
  const out = options.out ?? process.stderr;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const before = await readRootCa(control);
  const { cluster } = await control.call("updateCluster", {
    clusterId: before.cluster.id,
    clusterVersion: before.cluster.meta?.version,
    spec: before.cluster.spec,
    rotation: { worker: false, manager: false, rootCa: true },
  });
  const rotation = cluster?.rootCa?.rootRotation;
  if (!rotation || rotation.caCert.length === 0) {
    throw new ShoalError(ErrorCode.Internal, "the manager accepted the rotation but the cluster shows none");
  }
  const target = pki.caDigest(Buffer.from(rotation.caCert).toString("utf8"));
  out.write(`root CA rotation started: ${before.digest.slice(0, 12)} -> ${target.slice(0, 12)}\n`);
  if (options.detach) return Buffer.from(rotation.caCert).toString("utf8");
  const deadline = now() + (options.timeoutMs ?? 10 * 60_000);
  let last = "";
  for (;;) {
    let state: RootCaState | undefined;
    try {
      state = await readRootCa(control);
    } catch (err: unknown) {
      if (!isShoalError(err) || !TRANSIENT.includes(err.code)) throw err;
    }
    if (state) {
      if (state.digest === target && !state.progress) {
        out.write(`root CA rotation done: the root is ${target.slice(0, 12)}; join tokens changed\n`);
        return state.rootPem;
      }
      if (state.digest !== before.digest && state.digest !== target) {
        throw new ShoalError(
          ErrorCode.FailedPrecondition,
          `another rotation replaced this one: the root is now ${state.digest}`,
        );
      }
      const running = state.progress;
      if (running && running.newDigest !== target) {
        throw new ShoalError(
          ErrorCode.FailedPrecondition,
          `another rotation (to ${running.newDigest}) replaced this one`,
        );
      }
      const line = running ? progressLine(running) : "";
      if (line !== "" && line !== last) out.write(`${line}\n`);
      last = line;
    }
    if (now() > deadline) {
      throw new ShoalError(
        ErrorCode.DeadlineExceeded,
        `the rotation has not finished yet (${last || "no progress read"}); it goes on: follow it with shoal cluster ca`,
      );
    }
    await sleep(options.intervalMs ?? 1_000);
  }
}

export function registerRootCaCommand(cluster: Command): void {
  cluster
    .command("ca")
    .description(
      "print the cluster's root CA certificate and the progress of a rotation; --rotate replaces the root CA " +
        "(a new root cross-signed by the old one; every node renews; then join tokens change)",
    )
    .option("--rotate", "start a root CA rotation and follow it until every node has renewed")
    .option("-d, --detach", "with --rotate: start the rotation and return at once")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: { rotate?: boolean; detach?: boolean; manager?: string }) => {
      if (flags.detach && !flags.rotate) {
        throw new ShoalError(ErrorCode.InvalidArgument, "--detach goes with --rotate");
      }
      const control = new Control(managerAddresses(flags.manager));
      try {
        if (flags.rotate) {
          process.stdout.write(await rotateRootCa(control, { detach: flags.detach === true }));
          return;
        }
        const state = await readRootCa(control);
        process.stdout.write(state.rootPem);
        process.stderr.write(`root CA ${state.digest}\n`);
        if (state.progress) process.stderr.write(`${progressLine(state.progress)}\n`);
      } finally {
        control.close();
      }
    });
}
