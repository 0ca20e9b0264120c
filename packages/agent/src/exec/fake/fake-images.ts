// The fake executor's images: which are on the fake host, every pull asked for (with its
// credentials), and what a pull of an image does, scripted up front: report lines, fail, or hang
// until aborted (a registry that never answers); and what an inspect of an image on the host gives.
import { createHash } from "node:crypto";
import { ErrorCode, type RegistryAuth } from "@shoal/shared";
import { ExecError, ExecErrorReason } from "../errors.js";
import type { ImageInspect, PullOptions, PullProgress } from "../executor.js";

export interface FakePullScript {
  /** The pull reports these lines, in order; default Docker's usual ones for the image. */
  readonly lines?: readonly PullProgress[];
  /** After its lines, the pull fails with this (e.g. an ImagePullError). */
  readonly error?: Error;
  /** After its lines, the pull waits until its signal aborts. */
  readonly hang?: boolean;
  /** What an inspect of the image returns once it is on the host; default a small object of Docker's shape. */
  readonly inspect?: ImageInspect;
}

export interface FakePull {
  readonly image: string;
  readonly auth: RegistryAuth | undefined;
  readonly platform: string;
}

const line = (status: string, id = ""): PullProgress => ({ status, id, progress: "", current: 0, total: 0 });

export class FakeImages {
  /** The images on the fake host, as pulled. */
  readonly present = new Set<string>();
  /** Every pull asked for, in order. */
  readonly pulls: FakePull[] = [];
  private readonly scripts = new Map<string, FakePullScript>();

  /** Sets what pulls of `image` do. */
  script(image: string, script: FakePullScript): void {
    this.scripts.set(image, script);
  }

  async pull(image: string, options: PullOptions = {}): Promise<void> {
    const { signal } = options;
    this.pulls.push({ image, auth: options.auth, platform: options.platform ?? "" });
    const script = this.scripts.get(image) ?? {};
    for (const l of script.lines ?? this.usualLines(image)) {
      await Promise.resolve();
      if (signal?.aborted === true) throw aborted(image);
      options.onProgress?.(l);
    }
    if (script.error !== undefined) throw script.error;
    if (script.hang === true) {
      await new Promise<void>((resolve) => {
        if (signal === undefined) return;
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      throw aborted(image);
    }
    this.present.add(image);
  }

  /** The image as an inspect returns it; undefined when it is not on the fake host. */
  async inspect(image: string, signal?: AbortSignal): Promise<ImageInspect | undefined> {
    await Promise.resolve();
    if (signal?.aborted === true) throw aborted(image);
    if (!this.present.has(image)) return undefined;
    const scripted = this.scripts.get(image)?.inspect;
    if (scripted !== undefined) return scripted;
    const id = `sha256:${createHash("sha256").update(image).digest("hex")}`;
    return { Id: id, RepoTags: [image], RepoDigests: [], Os: "linux", Architecture: "amd64", Size: 0 };
  }

  private usualLines(image: string): PullProgress[] {
    const at = image.search(/[@:][^/]*$/);
    const [repo, tag] = at === -1 ? [image, "latest"] : [image.slice(0, at), image.slice(at + 1)];
    const outcome = this.present.has(image) ? "Image is up to date for" : "Downloaded newer image for";
    return [
      line(`Pulling from ${repo}`, tag),
      line("Pull complete", "0fa4e1c1e2b3"),
      line(`Digest: sha256:${"f".repeat(64)}`),
      line(`Status: ${outcome} ${image}`),
    ];
  }
}

function aborted(image: string): ExecError {
  return new ExecError(ErrorCode.Cancelled, ExecErrorReason.Aborted, `pulling image ${image}: aborted`, {
    temporary: true,
  });
}
