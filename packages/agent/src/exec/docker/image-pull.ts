// Making sure a task's image is on the host: inspect it, and pull it when it is missing.
// Registry authentication is not handled yet.
import { raceAbort, type Logger } from "@shoal/shared";
import type Docker from "dockerode";
import { ImagePullError, type ExecError } from "../errors.js";
import {
  abortOption,
  classifyDockerError,
  dockerMessage,
  isAbortError,
  isNotFound,
  isUnreachable,
} from "./docker-errors.js";

interface PullProgress {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** True when `image` is on the host. */
export async function hasImage(docker: Docker, image: string, signal?: AbortSignal): Promise<boolean> {
  try {
    // dockerode does not take a signal for this call; it is short.
    await raceAbort(docker.getImage(image).inspect(), signal);
    return true;
  } catch (err: unknown) {
    if (isNotFound(err)) return false;
    throw classifyDockerError(err, `inspecting image ${image}`);
  }
}

/**
 * Pulls `image`. A failure the registry or the daemon reports (no such image, bad name, registry
 * unreachable, ...) is an ImagePullError carrying Docker's message (fatal: the task is rejected);
 * an unreachable daemon is temporary. Docker reports some failures with HTTP 200 and an `error`
 * line in the progress stream, so the stream is read to its end.
 */
export async function pullImage(docker: Docker, image: string, logger: Logger, signal?: AbortSignal): Promise<void> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.pull(image, abortOption(signal));
  } catch (err: unknown) {
    throw pullFailure(image, err, signal);
  }
  const failure = await new Promise<string | undefined>((resolve, reject) => {
    let error: string | undefined;
    docker.modem.followProgress(
      stream,
      (err: unknown) => (err ? reject(pullFailure(image, err, signal)) : resolve(error)),
      (progress: PullProgress) => {
        if (progress.error !== undefined) error = progress.errorDetail?.message ?? progress.error;
        else if (progress.status !== undefined) logger.trace({ image, status: progress.status }, "pull progress");
      },
    );
  });
  if (signal?.aborted === true) throw classifyDockerError(abortError(signal), `pulling image ${image}`);
  if (failure !== undefined) throw new ImagePullError(image, failure);
}

function pullFailure(image: string, err: unknown, signal: AbortSignal | undefined): ExecError {
  if (signal?.aborted === true) return classifyDockerError(abortError(signal), `pulling image ${image}`);
  if (isAbortError(err) || isUnreachable(err)) return classifyDockerError(err, `pulling image ${image}`);
  return new ImagePullError(image, dockerMessage(err), { cause: err });
}

/** Pulls `image` unless it is on the host already. */
export async function ensureImage(docker: Docker, image: string, logger: Logger, signal?: AbortSignal): Promise<void> {
  if (await hasImage(docker, image, signal)) return;
  logger.info({ image }, "pulling image");
  await pullImage(docker, image, logger, signal);
  logger.info({ image }, "pulled image");
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error("aborted", { cause: signal.reason }), { name: "AbortError" });
}
