// Data encryption keys (DEKs) for the Raft files at rest. A DEK is 32 random bytes for AES-256-GCM; its id
// is the first 8 bytes of HMAC-SHA256(key, "shoal raft dek id"), written in every sealed record and
// snapshot file, so that a reader knows which key a record needs and can say "wrong key" (no key with that
// id) apart from "corrupt" (the right key, and the authentication tag fails).
//
// A KeyRing holds the key new writes use and the keys old data may still be under (after a rotation,
// until the next snapshot has replaced everything written with them).
import { createHmac, randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { DiskInvalidArgumentError } from "../wal/errors.js";

export const DATA_KEY_BYTES = 32;
export const KEY_ID_BYTES = 8;

/** A data encryption key. The key bytes stay out of JSON and util.inspect (and so out of logs). */
export class DataKey {
  /** 16 hex digits. */
  readonly id: string;
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.byteLength !== DATA_KEY_BYTES) {
      throw new DiskInvalidArgumentError(`a data key has ${DATA_KEY_BYTES} bytes, not ${key.byteLength}`);
    }
    this.#key = Buffer.from(key); // a copy: the caller may wipe its buffer
    this.id = keyIdOf(this.#key).toString("hex");
  }

  static generate(): DataKey {
    return new DataKey(randomBytes(DATA_KEY_BYTES));
  }

  /** The key bytes (a copy), to wrap and store. */
  bytes(): Buffer {
    return Buffer.from(this.#key);
  }

  /** The key itself, for the cipher; not a copy, not to be kept or changed. */
  material(): Buffer {
    return this.#key;
  }

  /** The 8 id bytes, as written before each sealed record. */
  idBytes(): Buffer {
    return Buffer.from(this.id, "hex");
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }

  [inspect.custom](): string {
    return `DataKey(${this.id})`;
  }
}

function keyIdOf(key: Uint8Array): Buffer {
  return createHmac("sha256", key).update("shoal raft dek id").digest().subarray(0, KEY_ID_BYTES);
}

/** The keys a Raft disk uses: `current` for new writes (undefined: write in clear), every key to read. */
export class KeyRing {
  readonly #byId = new Map<string, DataKey>();
  #current: DataKey | undefined;

  constructor(current?: DataKey, previous: readonly DataKey[] = []) {
    for (const k of previous) this.#byId.set(k.id, k);
    this.#current = current;
    if (current !== undefined) this.#byId.set(current.id, current);
  }

  get current(): DataKey | undefined {
    return this.#current;
  }

  /** New writes use `key`; the keys known before stay readable. */
  setCurrent(key: DataKey): void {
    this.#byId.set(key.id, key);
    this.#current = key;
  }

  get(id: string): DataKey | undefined {
    return this.#byId.get(id);
  }

  ids(): string[] {
    return [...this.#byId.keys()];
  }

  toJSON(): { current: string | undefined; ids: string[] } {
    return { current: this.#current?.id, ids: this.ids() };
  }

  [inspect.custom](): string {
    return `KeyRing(current ${this.#current?.id ?? "none"}, ${this.#byId.size} keys)`;
  }
}

/** What keysInUse() reports for data written in clear. */
export const CLEAR = "clear";
