// At-rest encryption of the Raft files: data keys and the sealing of records and snapshots.
export { DataKey, KeyRing, CLEAR, DATA_KEY_BYTES } from "./data-key.js";
export { seal, unseal, sealedKeyId, UnknownKeyError, SealAuthError, SEAL_OVERHEAD } from "./seal.js";
