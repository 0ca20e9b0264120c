// Control API: configs. As secrets (secret-objects.ts), but not confidential: the data is returned.
import type {
  CreateConfigRequest,
  CreateConfigResponse,
  GetConfigRequest,
  GetConfigResponse,
  ListConfigsRequest,
  ListConfigsResponse,
  RemoveConfigRequest,
  RemoveConfigResponse,
  UpdateConfigRequest,
  UpdateConfigResponse,
} from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";
import {
  createSecretLike,
  findSecretLike,
  listSecretLike,
  removeSecretLike,
  updateSecretLike,
} from "./secret-objects.js";

export async function createConfig(store: MemoryStore, req: CreateConfigRequest): Promise<CreateConfigResponse> {
  return { config: await createSecretLike(store, "config", req.spec) };
}

export function getConfig(store: MemoryStore, req: GetConfigRequest): GetConfigResponse {
  return { config: store.view((tx) => findSecretLike(tx, "config", req.configId)) };
}

export function listConfigs(store: MemoryStore, req: ListConfigsRequest): ListConfigsResponse {
  return { configs: listSecretLike(store, "config", req.filters) };
}

export async function updateConfig(store: MemoryStore, req: UpdateConfigRequest): Promise<UpdateConfigResponse> {
  return { config: await updateSecretLike(store, "config", req.configId, req.configVersion, req.spec) };
}

export async function removeConfig(store: MemoryStore, req: RemoveConfigRequest): Promise<RemoveConfigResponse> {
  await removeSecretLike(store, "config", req.configId);
  return {};
}
