// The base image every test container runs: busybox-static imported as a root file system,
// so that no registry or network is needed to make it.
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, copyFile, symlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const BASE_IMAGE = "shoal-base:1";
const BUSYBOX = "/bin/busybox";
const APPLETS = [
  "sh",
  "sleep",
  "echo",
  "cat",
  "true",
  "false",
  "env",
  "ls",
  "dd",
  "head",
  "wget",
  "nc",
  "httpd",
  "kill",
  "date",
];

/** The docker CLI arguments that point at a daemon: `-H unix:///...` or none for the default. */
export function dockerArgs(socket?: string): string[] {
  return socket === undefined ? [] : ["-H", `unix://${socket}`];
}

/**
 * Makes sure `tag` exists on the daemon at `socket` (the default daemon when omitted), importing
 * busybox-static when it does not. Fails with a clear message when busybox-static is missing.
 */
export async function ensureBaseImage(socket?: string, tag: string = BASE_IMAGE): Promise<string> {
  const docker = dockerArgs(socket);
  const present = await run("docker", [...docker, "image", "inspect", "--format", "{{.Id}}", tag]).then(
    () => true,
    () => false,
  );
  if (present) return tag;

  const root = await mkdtemp(join(tmpdir(), "shoal-base-"));
  try {
    await mkdir(join(root, "bin"));
    await mkdir(join(root, "tmp"));
    await mkdir(join(root, "etc"));
    await copyFile(BUSYBOX, join(root, "bin", "busybox")).catch((err: unknown) => {
      throw new Error(`cannot build ${tag}: ${BUSYBOX} is missing (install Debian's busybox-static)`, { cause: err });
    });
    for (const applet of APPLETS) await symlink("busybox", join(root, "bin", applet));
    await run("sh", [
      "-c",
      `tar -C "$1" -c . | docker ${docker.join(" ")} import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' - "$2"`,
      "sh",
      root,
      tag,
    ]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return tag;
}
