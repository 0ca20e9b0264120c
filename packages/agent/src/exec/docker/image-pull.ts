// Images on the host: inspect one (as the daemon returns it), pull one (with registry credentials and progress), and make
// sure a task's image is there (pulled when missing; tasks pull anonymously for now).
import { raceAbort, type Logger, type RegistryAuth } from "@shoal/shared";
import type Docker from "dockerode";
import { ImagePullError, type ExecError } from "../errors.js";
import type { ImageInspect, PullOptions, PullProgress } from "../executor.js";
import {
  abortOption,
  classifyDockerError,
  dockerMessage,
  isAbortError,
  isNotFound,
  isUnreachable,
} from "./docker-errors.js";

/** One object of Docker's pull progress stream. */
interface DockerProgress {
  status?: unknown;
  id?: unknown;
  progress?: unknown;
  progressDetail?: { current?: unknown; total?: unknown };
  error?: unknown;
  errorDetail?: { message?: unknown };
}

/** True when `image` is on the host. */
export async function hasImage(docker: Docker, image: string, signal?: AbortSignal): Promise<boolean> {
  return (await inspectImage(docker, image, signal)) !== undefined;
}

/** `image` as the daemon's inspect returns it; undefined when the host has no such image. */
export async function inspectImage(
  docker: Docker,
  image: string,
  signal?: AbortSignal,
): Promise<ImageInspect | undefined> {
  try {
    // dockerode does not take a signal for this call; it is short.
    const info: unknown = await raceAbort(docker.getImage(image).inspect(), signal);
    return info as ImageInspect;
  } catch (err: unknown) {
    if (isNotFound(err)) return undefined;
    throw classifyDockerError(err, `inspecting image ${image}`);
  }
}

/** Docker's AuthConfig (sent as X-Registry-Auth) for `auth`; only the fields that are set. */
export function dockerAuthConfig(auth: RegistryAuth): Docker.AuthConfig {
  const config: Record<string, string> = {};
  if (auth.username !== "") config["username"] = auth.username;
  if (auth.password !== "") config["password"] = auth.password;
  if (auth.serverAddress !== "") config["serveraddress"] = auth.serverAddress;
  if (auth.identityToken !== "") config["identitytoken"] = auth.identityToken;
  if (auth.registryToken !== "") config["registrytoken"] = auth.registryToken;
  return config;
}

/** A line of Docker's progress as the executor reports it; undefined for one without a status. */
export function progressLine(p: DockerProgress): PullProgress | undefined {
  if (typeof p.status !== "string") return undefined;
  const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
  return {
    status: p.status,
    id: typeof p.id === "string" ? p.id : "",
    progress: typeof p.progress === "string" ? p.progress : "",
    current: num(p.progressDetail?.current),
    total: num(p.progressDetail?.total),
  };
}

/**
 * Pulls `image`. A failure the registry or the daemon reports (no such image, bad name, denied,
 * registry unreachable, ...) is an ImagePullError carrying Docker's message (fatal for a task); an
 * unreachable daemon or an abort is temporary. Docker reports some failures with HTTP 200 and an
 * `error` line in the progress stream, so the stream is read to its end.
 */
export async function pullImage(
  docker: Docker,
  image: string,
  logger: Logger,
  options: PullOptions = {},
): Promise<void> {
  const { signal, onProgress } = options;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.pull(image, {
      ...abortOption(signal),
      ...(options.auth !== undefined ? { authconfig: dockerAuthConfig(options.auth) } : {}),
      ...(options.platform ? { platform: options.platform } : {}),
    });
  } catch (err: unknown) {
    throw pullFailure(image, err, signal);
  }
  const failure = await new Promise<string | undefined>((resolve, reject) => {
    let error: string | undefined;
    docker.modem.followProgress(
      stream,
      (err: unknown) => (err ? reject(pullFailure(image, err, signal)) : resolve(error)),
      (progress: DockerProgress) => {
        if (progress.error !== undefined) {
          const detail = progress.errorDetail?.message;
          error = typeof detail === "string" ? detail : String(progress.error);
          return;
        }
        const line = progressLine(progress);
        if (line === undefined) return;
        logger.trace({ image, status: line.status, id: line.id }, "pull progress");
        onProgress?.(line);
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
  await pullImage(docker, image, logger, { signal });
  logger.info({ image }, "pulled image");
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error("aborted", { cause: signal.reason }), { name: "AbortError" });
}
