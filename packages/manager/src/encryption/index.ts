// At-rest encryption of a manager's Raft files: its data keys and autolock.
export { RaftKeys } from "./raft-keys.js";
export type { RaftKeysLogger } from "./raft-keys.js";
export { UnlockKey, InvalidUnlockKeyError, UNLOCK_KEY_PREFIX } from "./unlock-key.js";
export { ManagerLockedError, KeyFileError, KEY_FILE_NAME, keyFilePath, readKeyFile } from "./key-file.js";
export type { DataKeys } from "./key-file.js";
export {
  UnlockSocket,
  callUnlockSocket,
  unlockSocketPath,
  UnlockRefusedError,
  UNLOCK_SOCKET_NAME,
} from "./unlock-socket.js";
export type { UnlockSocketOptions, CallUnlockSocketOptions } from "./unlock-socket.js";
export { AutolockFollower } from "./autolock-follower.js";
export type { AutolockFollowerOptions } from "./autolock-follower.js";
