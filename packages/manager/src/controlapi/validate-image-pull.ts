// Validation of a PullImageRequest, on every manager before anything is forwarded or asked of a
// node: a valid image reference (":latest" added when it has neither a tag nor a digest), a
// platform of the form os[/arch[/variant]], and a timeout within bounds. Errors name the field.
import { InvalidArgumentError, durationToMs, type PullImageRequest } from "@shoal/shared";
import type { ImagePullOrder } from "../dispatcher/image-pulls.js";
import { validateDuration } from "./validate-duration.js";
import { isImageReference } from "./validate-service.js";

export const DEFAULT_PULL_TIMEOUT_MS = 5 * 60_000;
const PLATFORM = /^[a-z0-9_.-]+(?:\/[a-z0-9_.-]+){0,2}$/i;

/** `image` with ":latest" when it names neither a tag nor a digest (as `docker pull` does). */
export function withDefaultTag(image: string): string {
  if (image.includes("@")) return image;
  return image.lastIndexOf(":") > image.lastIndexOf("/") ? image : `${image}:latest`;
}

export function imagePullOrder(request: PullImageRequest): ImagePullOrder {
  const { image, platform } = request;
  if (image === "") throw new InvalidArgumentError("is required", { field: "image" });
  if (!isImageReference(image)) {
    throw new InvalidArgumentError(`"${image}" is not a valid image reference`, { field: "image" });
  }
  if (platform !== "" && !PLATFORM.test(platform)) {
    throw new InvalidArgumentError(`"${platform}" is not a platform such as linux/amd64`, { field: "platform" });
  }
  validateDuration(request.timeout, "timeout", {
    min: { ms: 1000, text: "1 second" },
    max: { ms: 60 * 60_000, text: "1 hour" },
  });
  return {
    image: withDefaultTag(image),
    auth: request.auth,
    platform,
    timeoutMs: durationToMs(request.timeout, DEFAULT_PULL_TIMEOUT_MS),
  };
}
