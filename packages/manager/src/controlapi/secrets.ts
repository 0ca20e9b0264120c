// Control API: secrets. The data goes into the store and never comes out through this API: every
// answer carries the secret with empty data (redacted here, at the edge, in one place).
import type {
  CreateSecretRequest,
  CreateSecretResponse,
  GetSecretRequest,
  GetSecretResponse,
  ListSecretsRequest,
  ListSecretsResponse,
  RemoveSecretRequest,
  RemoveSecretResponse,
  Secret,
  UpdateSecretRequest,
  UpdateSecretResponse,
} from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";
import {
  createSecretLike,
  findSecretLike,
  listSecretLike,
  removeSecretLike,
  updateSecretLike,
} from "./secret-objects.js";

/** The secret as the API shows it: everything but the data. */
export function redactSecret(secret: Secret): Secret {
  return { ...secret, spec: secret.spec && { ...secret.spec, data: new Uint8Array() } };
}

export async function createSecret(store: MemoryStore, req: CreateSecretRequest): Promise<CreateSecretResponse> {
  return { secret: redactSecret(await createSecretLike(store, "secret", req.spec)) };
}

export function getSecret(store: MemoryStore, req: GetSecretRequest): GetSecretResponse {
  return { secret: redactSecret(store.view((tx) => findSecretLike(tx, "secret", req.secretId))) };
}

export function listSecrets(store: MemoryStore, req: ListSecretsRequest): ListSecretsResponse {
  return { secrets: listSecretLike(store, "secret", req.filters).map(redactSecret) };
}

export async function updateSecret(store: MemoryStore, req: UpdateSecretRequest): Promise<UpdateSecretResponse> {
  const secret = await updateSecretLike(store, "secret", req.secretId, req.secretVersion, req.spec);
  return { secret: redactSecret(secret) };
}

export async function removeSecret(store: MemoryStore, req: RemoveSecretRequest): Promise<RemoveSecretResponse> {
  await removeSecretLike(store, "secret", req.secretId);
  return {};
}
