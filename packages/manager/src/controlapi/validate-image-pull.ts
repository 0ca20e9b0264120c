// Validation of a PullImageRequest, on every manager before anything is forwarded or asked of a
// node: a valid image reference (":latest" added when it has neither a tag nor a digest), a
// platform of the form os[/arch[/variant]], and a timeout within bounds. Errors name the field.
// An InspectImageRequest likewise: a name, reference or id (as the engines take it), a timeout.
import { InvalidArgumentError, durationToMs, type InspectImageRequest, type PullImageRequest } from "@shoal/shared";
import type { ImageInspectOrder, ImagePullOrder } from "../dispatcher/image-pulls.js";
import { validateDuration } from "./validate-duration.js";
import { isImageReference } from "./validate-service.js";

export const DEFAULT_PULL_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_INSPECT_TIMEOUT_MS = 10_000;
/** An image name, reference or id as an engine's inspect takes it: printable, no spaces. */
const INSPECT_NAME = /^[\x21-\x7e]{1,512}$/;
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

export function imageInspectOrder(request: InspectImageRequest): ImageInspectOrder {
  const { image } = request;
  if (image === "") throw new InvalidArgumentError("is required", { field: "image" });
  if (!INSPECT_NAME.test(image)) {
    throw new InvalidArgumentError(`"${image}" is not an image name, reference or id`, { field: "image" });
  }
  validateDuration(request.timeout, "timeout", {
    min: { ms: 1000, text: "1 second" },
    max: { ms: 5 * 60_000, text: "5 minutes" },
  });
  return { image, timeoutMs: durationToMs(request.timeout, DEFAULT_INSPECT_TIMEOUT_MS) };
}
