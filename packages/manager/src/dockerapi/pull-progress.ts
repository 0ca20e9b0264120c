// A cluster-wide pull as Docker's progress JSON, one object per line: what `docker pull` prints
// and docker-py reads. Every line names its node: a layer's line by its id ("HOST: LAYER", so that
// the CLI keeps one line per layer and node), any other line by its status ("HOST: Digest: ...").
// A node that fails says so on a line of its own; the stream then ends with a summary and Docker's
// own last status ("Status: Downloaded newer image for ...", which SDKs look for), or with Docker's
// error object when some node failed (the CLI prints it and exits 1), so that every
// node's outcome is shown before the error. Pure: messages in, JSON objects out.
import type { ImagePullLine, PullImageNode, PullImageResponse } from "@shoal/shared";

/** One object of Docker's progress stream. */
export interface DockerProgress {
  readonly status?: string;
  readonly id?: string;
  readonly progress?: string;
  readonly progressDetail?: { readonly current: number; readonly total: number };
  readonly errorDetail?: { readonly message: string };
  readonly error?: string;
}

export class PullProgressWriter {
  private readonly asked = new Map<string, PullImageNode>();
  private readonly failures: string[] = [];
  private answered = 0;
  /** Whether some node downloaded the image (else every one had it already). */
  private downloaded = false;

  constructor(private readonly image: string) {}

  /** The objects for one message of the Control stream. */
  message(m: PullImageResponse): DockerProgress[] {
    if (m.node === undefined) {
      for (const n of m.nodes) this.asked.set(n.nodeId, n);
      const names = m.nodes.map(nameOf).join(", ");
      const count = m.nodes.length === 1 ? "1 node" : `${m.nodes.length} nodes`;
      return [{ status: `Pulling ${this.image} on ${count}: ${names}` }];
    }
    const host = nameOf(m.node);
    const out = m.lines.map((l) => line(host, l));
    if (m.lines.some((l) => l.id === "" && l.status.startsWith("Status: Downloaded newer image"))) {
      this.downloaded = true;
    }
    if (m.done) {
      this.answered++;
      this.asked.delete(m.node.nodeId);
      if (m.error !== "") {
        this.failures.push(`${host}: ${m.error}`);
        out.push({ status: `${host}: failed: ${m.error}` });
      }
    }
    return out;
  }

  /** The last objects, once the Control stream has ended (`error`: it failed). */
  end(error?: string): DockerProgress[] {
    // By node name: the same outcome reads the same whatever order the nodes answered in.
    const failures = [...this.failures, ...[...this.asked.values()].map((n) => `${nameOf(n)}: no answer`)].sort();
    if (error !== undefined) failures.push(error);
    const total = this.answered + this.asked.size;
    if (failures.length === 0) {
      const status = this.downloaded ? "Downloaded newer image" : "Image is up to date";
      return [
        { status: `Pulled ${this.image} on ${total} of ${total} nodes` },
        { status: `Status: ${status} for ${this.image}` },
      ];
    }
    const nodes = this.failures.length + this.asked.size;
    const what =
      nodes > 0 ? `pull of ${this.image} failed on ${nodes} of ${total} nodes` : `pull of ${this.image} failed`;
    const message = `${what}: ${failures.join("; ")}`;
    return [{ errorDetail: { message }, error: message }];
  }
}

/** A node as the lines name it: its hostname, or its id when it has none. */
function nameOf(node: PullImageNode): string {
  return node.hostname !== "" ? node.hostname : node.nodeId;
}

function line(host: string, l: ImagePullLine): DockerProgress {
  if (l.id === "") return { status: `${host}: ${l.status}` };
  return {
    status: l.status,
    id: `${host}: ${l.id}`,
    ...(l.progress !== "" ? { progress: l.progress } : {}),
    ...(l.total > 0 || l.current > 0 ? { progressDetail: { current: l.current, total: l.total } } : {}),
  };
}
