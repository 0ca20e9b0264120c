// A manager's data keys on disk: DATA_DIR/raft-keys.json, mode 0600, written atomically (temporary file,
// fsync, rename, fsync of the directory). The keys are the current data key (DEK) and the previous ones
// still needed to read the Raft files after a rotation.
//
//   unlocked (autolock off): {"version":1,"locked":false,"keys":{"current":"<b64>","previous":["<b64>"]}}
//   locked (autolock on):    {"version":1,"locked":true,"salt":"<b64>","nonce":"<b64>","sealed":"<b64>"}
//
// Locked, `sealed` is AES-256-GCM, under the KEK derived from the unlock key and `salt`, of the JSON of
// `keys`. As in SwarmKit, the unlocked form is the key in clear next to the node's TLS key: it protects
// nothing but lets every file be encrypted the same way, so that turning autolock on is a key rotation.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DataKey } from "@shoal/raft";
import { ErrorCode, ShoalError } from "@shoal/shared";
import type { UnlockKey } from "./unlock-key.js";
import { InvalidUnlockKeyError } from "./unlock-key.js";

export const KEY_FILE_NAME = "raft-keys.json";
const VERSION = 1;
const AAD = Buffer.from("shoal raft keys v1");

/** The keys a manager reads its Raft files with. */
export interface DataKeys {
  current: DataKey;
  /** Older keys, still needed until a snapshot under `current` replaces the data under them. */
  previous: DataKey[];
}

type KeyFile =
  | { version: 1; locked: false; keys: { current: string; previous: string[] } }
  | { version: 1; locked: true; salt: string; nonce: string; sealed: string };

/** The key file is missing a part, or is not ours. */
export class KeyFileError extends ShoalError {
  constructor(path: string, message: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.DataLoss, `${path}: ${message}`, options);
  }
}

/** The manager is locked: its data keys need the unlock key. */
export class ManagerLockedError extends ShoalError {
  constructor(message = "this manager is locked: run `shoal manager unlock` with the cluster's unlock key") {
    super(ErrorCode.FailedPrecondition, message);
  }
}

export function keyFilePath(dataDir: string): string {
  return join(dataDir, KEY_FILE_NAME);
}

function encodeKeys(keys: DataKeys): { current: string; previous: string[] } {
  return {
    current: keys.current.bytes().toString("base64"),
    previous: keys.previous.map((k) => k.bytes().toString("base64")),
  };
}

function decodeKeys(path: string, v: unknown): DataKeys {
  const o = v as { current?: unknown; previous?: unknown };
  if (typeof o?.current !== "string" || !Array.isArray(o.previous)) throw new KeyFileError(path, "no keys");
  try {
    return {
      current: new DataKey(Buffer.from(o.current, "base64")),
      previous: o.previous.map((p) => new DataKey(Buffer.from(String(p), "base64"))),
    };
  } catch (err: unknown) {
    throw new KeyFileError(path, "a key is malformed", { cause: err });
  }
}

/** Read the key file: undefined when there is none; `locked` when it needs the unlock key. */
export async function readKeyFile(
  dataDir: string,
): Promise<{ locked: false; keys: DataKeys } | { locked: true; file: KeyFile & { locked: true } } | undefined> {
  const path = keyFilePath(dataDir);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let file: KeyFile;
  try {
    file = JSON.parse(text) as KeyFile;
  } catch (err: unknown) {
    throw new KeyFileError(path, "not JSON", { cause: err });
  }
  if (file?.version !== VERSION) throw new KeyFileError(path, `unknown version ${String(file?.version)}`);
  if (file.locked) return { locked: true, file };
  return { locked: false, keys: decodeKeys(path, file.keys) };
}

/** Open a locked key file with the unlock key; InvalidUnlockKeyError when it is not the right one. */
export function unwrapKeys(dataDir: string, file: KeyFile & { locked: true }, unlockKey: UnlockKey): DataKeys {
  const path = keyFilePath(dataDir);
  const kek = unlockKey.deriveKek(Buffer.from(file.salt, "base64"));
  const sealed = Buffer.from(file.sealed, "base64");
  if (sealed.byteLength < 16) throw new KeyFileError(path, "sealed keys cut short");
  const decipher = createDecipheriv("aes-256-gcm", kek, Buffer.from(file.nonce, "base64"), { authTagLength: 16 });
  decipher.setAAD(AAD);
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - 16));
  let clear: Buffer;
  try {
    clear = Buffer.concat([decipher.update(sealed.subarray(0, sealed.byteLength - 16)), decipher.final()]);
  } catch {
    throw new InvalidUnlockKeyError("invalid unlock key: it does not open this manager's data keys");
  }
  return decodeKeys(path, JSON.parse(clear.toString("utf8")));
}

/** Write the keys, wrapped with the unlock key when given (locked), in clear otherwise. */
export async function writeKeyFile(dataDir: string, keys: DataKeys, unlockKey: UnlockKey | undefined): Promise<void> {
  let file: KeyFile;
  if (unlockKey === undefined) {
    file = { version: VERSION, locked: false, keys: encodeKeys(keys) };
  } else {
    const salt = randomBytes(16);
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", unlockKey.deriveKek(salt), nonce, { authTagLength: 16 });
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([
      cipher.update(Buffer.from(JSON.stringify(encodeKeys(keys)))),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    file = {
      version: VERSION,
      locked: true,
      salt: salt.toString("base64"),
      nonce: nonce.toString("base64"),
      sealed: sealed.toString("base64"),
    };
  }
  const path = keyFilePath(dataDir);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(JSON.stringify(file) + "\n");
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
