// /secrets and /configs: list (filters id, name, names, label), create ({Name, Labels, Data}
// with Data in base64; Driver and Templating refused), inspect (by id, name or id prefix), update
// (labels only, at the version read) and delete (409 while a service uses it). A secret's Data is
// never in an answer (no manager has it to give); a config's is, as Docker shows it.
import {
  ErrorCode,
  InvalidArgumentError,
  ShoalError,
  isShoalError,
  type Config,
  type Secret,
  type SecretFilters,
} from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { matchesLabels, parseFilters } from "./filters.js";
import { decodeShape } from "./json-shape.js";
import { versionParam } from "./nodes.js";
import { meta } from "./objects.js";
import type { Handler } from "./router.js";
import { defined } from "./spec-values.js";

type Kind = "secret" | "config";

interface DockerSecretSpec {
  Name?: string;
  Labels?: Record<string, string> | null;
  Data?: string;
  Driver?: unknown;
  Templating?: unknown;
}

const DRIVER: { object: Record<string, "string" | { map: "string" }> } = {
  object: { Name: "string", Options: { map: "string" } },
};

const SPEC_SHAPE = {
  object: { Name: "string", Labels: { map: "string" }, Data: "string", Driver: DRIVER, Templating: DRIVER },
} as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Docker's Secret (or Config) JSON. */
export function toDockerSecret(kind: Kind, obj: Secret | Config): Record<string, unknown> {
  const data = obj.spec?.data ?? new Uint8Array();
  return {
    ID: obj.id,
    ...meta(obj.meta),
    Spec: defined({
      Name: obj.spec?.annotations?.name ?? "",
      Labels: { ...(obj.spec?.annotations?.labels ?? {}) },
      Data: kind === "config" ? Buffer.from(data).toString("base64") : undefined,
    }),
  };
}

function fromDockerSpec(body: DockerSecretSpec): {
  annotations: { name: string; labels: Record<string, string> };
  data: Uint8Array;
} {
  if (body.Driver != null)
    throw new InvalidArgumentError("is not supported by Shoal (the data is kept by the managers)", { field: "Driver" });
  if (body.Templating != null) throw new InvalidArgumentError("is not supported by Shoal", { field: "Templating" });
  const data = (body.Data ?? "").replace(/\s/g, "");
  if (!BASE64.test(data) || data.length % 4 === 1) throw new InvalidArgumentError("is not base64", { field: "Data" });
  return {
    annotations: { name: body.Name ?? "", labels: { ...(body.Labels ?? {}) } },
    data: Buffer.from(data, "base64"),
  };
}

/** Docker's delete of an object in use is a 409 (the Control API's FAILED_PRECONDITION). */
export function inUseIsConflict(err: unknown): never {
  if (isShoalError(err) && err.code === ErrorCode.FailedPrecondition && /in use/.test(err.message)) {
    throw new ShoalError(ErrorCode.AlreadyExists, err.message, { cause: err });
  }
  throw err;
}

export function secretHandlers(ctx: DockerApiContext, kind: Kind): Record<string, Handler> {
  const get = async (ref: string): Promise<Secret | Config> =>
    kind === "secret"
      ? (await ctx.control.call("getSecret", { secretId: ref })).secret!
      : (await ctx.control.call("getConfig", { configId: ref })).config!;
  return {
    list: async (req) => {
      const f = parseFilters(req.query.get("filters"), ["id", "name", "names", "label"]);
      const filters: SecretFilters = {
        names: [...(f.get("names") ?? [])],
        namePrefixes: [...(f.get("name") ?? [])],
        idPrefixes: [...(f.get("id") ?? [])],
        labels: {},
      };
      const list =
        kind === "secret"
          ? (await ctx.control.call("listSecrets", { filters })).secrets
          : (await ctx.control.call("listConfigs", { filters })).configs;
      const found = list.filter((o) => matchesLabels(o.spec?.annotations?.labels, f.get("label")));
      return { status: 200, json: found.map((o) => toDockerSecret(kind, o)) };
    },
    inspect: async (req) => ({ status: 200, json: toDockerSecret(kind, await get(req.params["id"]!)) }),
    create: async (req) => {
      const spec = fromDockerSpec(decodeShape(await req.json(), SPEC_SHAPE) as DockerSecretSpec);
      const id =
        kind === "secret"
          ? (await ctx.control.call("createSecret", { spec })).secret!.id
          : (await ctx.control.call("createConfig", { spec })).config!.id;
      return { status: 201, json: { ID: id } };
    },
    update: async (req) => {
      const version = versionParam(req, kind);
      const body = decodeShape(await req.json(), SPEC_SHAPE) as DockerSecretSpec;
      const current = await get(req.params["id"]!);
      // The docker CLI sends the spec back as inspect showed it: a secret without its data.
      const spec = fromDockerSpec(body);
      if (kind === "secret")
        await ctx.control.call("updateSecret", { secretId: current.id, secretVersion: version, spec });
      else await ctx.control.call("updateConfig", { configId: current.id, configVersion: version, spec });
      return { status: 200 };
    },
    remove: async (req) => {
      const current = await get(req.params["id"]!);
      try {
        if (kind === "secret") await ctx.control.call("removeSecret", { secretId: current.id });
        else await ctx.control.call("removeConfig", { configId: current.id });
      } catch (err: unknown) {
        inUseIsConflict(err);
      }
      return { status: 204 };
    },
  };
}
