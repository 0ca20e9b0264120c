// POST /images/create: `docker pull` (and docker-py's images.pull, dockerode's pull) against a
// manager pulls the image on every ready node of the cluster, through the Control API's PullImage,
// and streams the nodes' progress as Docker's JSON lines (pull-progress.ts). What Shoal cannot
// honour is refused with a 400 naming the parameter: an import (fromSrc, and repo, message and
// changes, which only an import reads), and every tag of a repository (no tag given).
import {
  ErrorCode,
  InvalidArgumentError,
  ShoalError,
  errorMessage,
  type PullImageRequest,
  type RegistryAuth,
} from "@shoal/shared";
import { isImageReference } from "../controlapi/validate-service.js";
import type { DockerApiContext } from "./context.js";
import { PullProgressWriter, type DockerProgress } from "./pull-progress.js";
import type { DockerRequest, Handler, Reply } from "./router.js";

const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** Parameters that only an import reads. */
const IMPORT_ONLY = ["repo", "message", "changes"] as const;

export function imageHandlers(ctx: DockerApiContext): Record<string, Handler> {
  return { create: (req) => createImage(ctx, req) };
}

/** The image a create request asks to pull: fromImage with the tag (or digest) given. */
export function pullReference(query: URLSearchParams): string {
  if ((query.get("fromSrc") ?? "") !== "") {
    throw new InvalidArgumentError("importing an image is not supported: Shoal pulls images from a registry", {
      field: "fromSrc",
    });
  }
  for (const name of IMPORT_ONLY) {
    if (query.getAll(name).some((v) => v !== "")) {
      throw new InvalidArgumentError("is for importing an image, which Shoal does not support", { field: name });
    }
  }
  const fromImage = query.get("fromImage") ?? "";
  if (fromImage === "") throw new InvalidArgumentError("is required: the image to pull", { field: "fromImage" });
  const tag = query.get("tag") ?? "";
  const at = fromImage.indexOf("@");
  const colon = fromImage.lastIndexOf(":");
  const tagged = at === -1 && colon > fromImage.lastIndexOf("/");
  if (tag === "") {
    if (at === -1 && !tagged) {
      throw new InvalidArgumentError(
        "is empty, which asks for every tag of the repository: Shoal pulls one tag or digest, give one",
        { field: "tag" },
      );
    }
    return checked(fromImage, "fromImage");
  }
  if (at !== -1) throw new InvalidArgumentError("cannot be given for an image named by digest", { field: "tag" });
  if (!DIGEST.test(tag) && !isImageReference(`x:${tag}`)) {
    throw new InvalidArgumentError(`"${tag}" is not a valid tag or digest`, { field: "tag" });
  }
  const name = checked(tagged ? fromImage.slice(0, colon) : fromImage, "fromImage");
  return DIGEST.test(tag) ? `${name}@${tag}` : `${name}:${tag}`;
}

function checked(image: string, field: string): string {
  if (!isImageReference(image)) throw new InvalidArgumentError(`"${image}" is not a valid image reference`, { field });
  return image;
}

/**
 * The credentials of an X-Registry-Auth header (base64url JSON of Docker's AuthConfig); undefined
 * for none. An unreadable header counts as none, as it does for Docker 20.10 (API 1.41).
 */
export function registryAuth(header: string | string[] | undefined): RegistryAuth | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const fields = parsed as Record<string, unknown>;
  const str = (key: string): string => (typeof fields[key] === "string" ? fields[key] : "");
  let [username, password] = [str("username"), str("password")];
  const basic = str("auth");
  if (username === "" && basic !== "") {
    // "auth" is base64("user:password"), as in a docker config file.
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  }
  const auth: RegistryAuth = {
    username,
    password,
    serverAddress: str("serveraddress"),
    identityToken: str("identitytoken"),
    registryToken: str("registrytoken"),
  };
  return Object.values(auth).every((v) => v === "") ? undefined : auth;
}

async function createImage(ctx: DockerApiContext, req: DockerRequest): Promise<Reply> {
  const image = pullReference(req.query);
  if (ctx.images === undefined) throw new ShoalError(ErrorCode.Unavailable, "this manager does not pull images");
  const request: PullImageRequest = {
    image,
    auth: registryAuth(req.raw.headers["x-registry-auth"]),
    platform: req.query.get("platform") ?? "",
    timeout: undefined,
  };
  const messages = ctx.images.pullImage(request, req.signal)[Symbol.asyncIterator]();
  // The first message (the nodes asked) or the refusal comes before the headers, so that a refusal
  // (a bad platform, no leader, no ready node) is still answered with a status and a message.
  let next = await messages.next();
  const { res } = req;
  res.writeHead(200, { "Content-Type": "application/json" });
  res.flushHeaders();
  const send = async (objects: DockerProgress[]): Promise<void> => {
    if (objects.length === 0 || res.writableEnded) return;
    if (!res.write(objects.map((o) => `${JSON.stringify(o)}\r\n`).join(""))) {
      await new Promise<void>((resolve) => {
        res.once("drain", resolve);
        req.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  };
  const writer = new PullProgressWriter(image);
  try {
    while (!next.done && !req.signal.aborted) {
      await send(writer.message(next.value));
      next = await messages.next();
    }
    await send(writer.end());
  } catch (err: unknown) {
    if (!req.signal.aborted) await send(writer.end(errorMessage(err)));
  }
  res.end();
  return "streamed";
}
