// The Control API's secret and config methods, wired as reads (read index, then the local store)
// and writes (forwarded to the leader by a follower) by the server's own wrappers.
import type * as grpc from "@grpc/grpc-js";
import type { ControlClient, ControlServer, RequestOf, ResponseOf, UnaryMethodName } from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";
import { createConfig, getConfig, listConfigs, removeConfig, updateConfig } from "./configs.js";
import { createSecret, getSecret, listSecrets, removeSecret, updateSecret } from "./secrets.js";

export type WriteWrapper = <K extends UnaryMethodName<ControlClient>>(
  method: K,
  fn: (req: RequestOf<ControlClient, K>) => Promise<ResponseOf<ControlClient, K>>,
) => grpc.handleUnaryCall<RequestOf<ControlClient, K>, ResponseOf<ControlClient, K>>;

export type ReadWrapper = <Req, Res>(fn: (req: Req) => Res) => grpc.handleUnaryCall<Req, Res>;

type SecretMethods =
  | "createSecret"
  | "getSecret"
  | "listSecrets"
  | "updateSecret"
  | "removeSecret"
  | "createConfig"
  | "getConfig"
  | "listConfigs"
  | "updateConfig"
  | "removeConfig";

export function secretHandlers(
  store: MemoryStore,
  write: WriteWrapper,
  read: ReadWrapper,
): Pick<ControlServer, SecretMethods> {
  return {
    createSecret: write("createSecret", (req) => createSecret(store, req)),
    getSecret: read((req) => getSecret(store, req)),
    listSecrets: read((req) => listSecrets(store, req)),
    updateSecret: write("updateSecret", (req) => updateSecret(store, req)),
    removeSecret: write("removeSecret", (req) => removeSecret(store, req)),
    createConfig: write("createConfig", (req) => createConfig(store, req)),
    getConfig: read((req) => getConfig(store, req)),
    listConfigs: read((req) => listConfigs(store, req)),
    updateConfig: write("updateConfig", (req) => updateConfig(store, req)),
    removeConfig: write("removeConfig", (req) => removeConfig(store, req)),
  };
}
