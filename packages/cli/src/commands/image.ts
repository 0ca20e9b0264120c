// shoal image pull IMAGE: pulls the image on every ready node of the cluster (Control.PullImage)
// and prints, per node, what the pull says about the image (not each layer's progress) and its
// outcome; exits 1 when some node did not pull it. --json prints the Control stream's messages.
import type { Command } from "commander";
import {
  ErrorCode,
  InvalidArgumentError,
  PullImageResponse,
  ShoalError,
  durationFromMs,
  type PullImageNode,
  type PullImageRequest,
  type RegistryAuth,
} from "@shoal/shared";
import { MANAGER_HELP, withControl, type Control } from "../client.js";
import { parseDuration } from "../output/duration.js";

/** Tallies a pull's outcomes from its messages and turns each into the lines to print. */
export class PullReport {
  private readonly asked = new Map<string, string>();
  private readonly failed: string[] = [];
  private pulled = 0;

  constructor(private readonly image: string) {}

  /** The lines for one message: the nodes asked, a node's lines about the image, a failure. */
  lines(m: PullImageResponse): string[] {
    if (m.node === undefined) {
      for (const n of m.nodes) this.asked.set(n.nodeId, name(n));
      return [`Pulling ${this.image} on ${m.nodes.map(name).join(", ")}`];
    }
    const host = name(m.node);
    // A layer's lines (with an id) are progress; the others say what happened to the image.
    const out = m.lines.filter((l) => l.id === "").map((l) => `${host}: ${l.status}`);
    if (m.done) {
      this.asked.delete(m.node.nodeId);
      if (m.error === "") this.pulled++;
      else {
        this.failed.push(host);
        out.push(`${host}: failed: ${m.error}`);
      }
    }
    return out;
  }

  /** The closing line; throws when some node did not pull the image. */
  summary(): string {
    const failed = [...this.failed, ...this.asked.values()].sort();
    const total = this.pulled + failed.length;
    if (failed.length === 0) return `Pulled ${this.image} on ${total} of ${total} nodes`;
    throw new ShoalError(
      ErrorCode.FailedPrecondition,
      `pulled ${this.image} on ${this.pulled} of ${total} nodes; not on ${failed.join(", ")}`,
    );
  }
}

const name = (n: PullImageNode): string => n.hostname || n.nodeId;

/** Reads all of stdin (for --password-stdin), without its trailing newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

interface PullFlags {
  platform?: string;
  timeout?: string;
  username?: string;
  passwordStdin?: boolean;
  registry?: string;
  json?: boolean;
  manager?: string;
}

export async function pullRequest(image: string, flags: PullFlags, stdin = readStdin): Promise<PullImageRequest> {
  if (flags.passwordStdin === true && flags.username === undefined) {
    throw new InvalidArgumentError("needs --username", { field: "--password-stdin" });
  }
  const auth: RegistryAuth | undefined =
    flags.username === undefined
      ? undefined
      : {
          username: flags.username,
          password: flags.passwordStdin === true ? await stdin() : "",
          serverAddress: flags.registry ?? "",
          identityToken: "",
          registryToken: "",
        };
  return {
    image,
    auth,
    platform: flags.platform ?? "",
    timeout: flags.timeout === undefined ? undefined : durationFromMs(parseDuration(flags.timeout, "--timeout")),
  };
}

/** Runs the pull and prints it; resolves with nothing, throws when some node failed. */
export async function pullImage(
  control: Pick<Control, "pullImage">,
  request: PullImageRequest,
  json: boolean,
  out: NodeJS.WritableStream,
  signal: AbortSignal,
): Promise<void> {
  const report = new PullReport(request.image);
  for await (const m of control.pullImage(request, signal)) {
    const lines = json ? [JSON.stringify(PullImageResponse.toJSON(m))] : report.lines(m);
    if (json) report.lines(m);
    for (const line of lines) out.write(`${line}\n`);
  }
  const summary = report.summary();
  if (!json) out.write(`${summary}\n`);
}

export function registerImageCommands(program: Command): void {
  const image = program.command("image").description("manage images on the cluster's nodes");
  image
    .command("pull")
    .description("pull an image on every ready node, printing each node's outcome")
    .argument("<image>", "image reference, e.g. registry:5000/app:1 (without a tag: latest)")
    .option("--platform <os/arch>", "pull this platform's image instead of each node's own")
    .option("--timeout <duration>", "how long a node may take (default 5m, at most 1h)")
    .option("-u, --username <name>", "registry user name")
    .option("--password-stdin", "read the registry password from stdin (with --username)")
    .option("--registry <host>", "the registry the credentials are for (default: the image's)")
    .option("--json", "print the stream's messages as JSON lines")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (ref: string, flags: PullFlags) => {
      const request = await pullRequest(ref, flags);
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once("SIGINT", onSignal);
      try {
        await withControl(flags.manager, (c) =>
          pullImage(c, request, flags.json === true, process.stdout, stop.signal),
        );
      } finally {
        process.off("SIGINT", onSignal);
      }
    });
}
