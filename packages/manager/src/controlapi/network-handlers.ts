// The Control API's network methods, wired as the secret methods are (secret-handlers.ts): reads
// on the read index, writes forwarded to the leader.
import type { ControlServer } from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";
import { createNetwork, getNetwork, listNetworks, removeNetwork } from "./networks.js";
import type { ReadWrapper, WriteWrapper } from "./secret-handlers.js";

type NetworkMethods = "createNetwork" | "getNetwork" | "listNetworks" | "removeNetwork";

export function networkHandlers(
  store: MemoryStore,
  write: WriteWrapper,
  read: ReadWrapper,
): Pick<ControlServer, NetworkMethods> {
  return {
    createNetwork: write("createNetwork", (req) => createNetwork(store, req)),
    getNetwork: read((req) => getNetwork(store, req)),
    listNetworks: read((req) => listNetworks(store, req)),
    removeNetwork: write("removeNetwork", (req) => removeNetwork(store, req)),
  };
}
