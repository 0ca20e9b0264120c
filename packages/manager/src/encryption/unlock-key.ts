// The unlock key of an autolocked cluster: 32 random bytes shown once as SWMKEY-1-<base64url>, as
// SwarmKit's. The key that wraps a manager's data key (the KEK) is derived from it with HKDF-SHA256 and a
// salt kept with the wrapped key: the unlock key is random, not a password, so a slow KDF adds nothing.
import { hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { inspect } from "node:util";
import { ErrorCode, ShoalError } from "@shoal/shared";

export const UNLOCK_KEY_PREFIX = "SWMKEY-1-";
const UNLOCK_KEY_BYTES = 32;
const KEK_INFO = Buffer.from("shoal manager data key encryption");

/** An unlock key that does not parse, or that does not open the data key. */
export class InvalidUnlockKeyError extends ShoalError {
  constructor(message: string) {
    super(ErrorCode.InvalidArgument, message);
  }
}

/** The unlock key. Its text stays out of JSON and util.inspect (and so out of logs). */
export class UnlockKey {
  readonly #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  static generate(): UnlockKey {
    return new UnlockKey(randomBytes(UNLOCK_KEY_BYTES));
  }

  /** Parse `SWMKEY-1-<base64url>` (surrounding white space ignored). */
  static parse(text: string): UnlockKey {
    const t = text.trim();
    if (!t.startsWith(UNLOCK_KEY_PREFIX)) {
      throw new InvalidUnlockKeyError(`an unlock key starts with ${UNLOCK_KEY_PREFIX}`);
    }
    const body = t.slice(UNLOCK_KEY_PREFIX.length);
    const bytes = /^[A-Za-z0-9_-]+$/.test(body) ? Buffer.from(body, "base64url") : Buffer.alloc(0);
    if (bytes.byteLength !== UNLOCK_KEY_BYTES) {
      throw new InvalidUnlockKeyError(`malformed unlock key: ${UNLOCK_KEY_BYTES} bytes in base64url expected`);
    }
    return new UnlockKey(bytes);
  }

  static fromBytes(bytes: Uint8Array): UnlockKey {
    if (bytes.byteLength !== UNLOCK_KEY_BYTES) {
      throw new InvalidUnlockKeyError(`an unlock key has ${UNLOCK_KEY_BYTES} bytes, not ${bytes.byteLength}`);
    }
    return new UnlockKey(Buffer.from(bytes));
  }

  /** The text to show the operator, once. */
  reveal(): string {
    return UNLOCK_KEY_PREFIX + this.#bytes.toString("base64url");
  }

  /** The raw bytes (a copy), to store in the cluster object. */
  bytes(): Buffer {
    return Buffer.from(this.#bytes);
  }

  equals(other: UnlockKey): boolean {
    return timingSafeEqual(this.#bytes, other.#bytes);
  }

  /** The key-encryption key for a salt. */
  deriveKek(salt: Uint8Array): Buffer {
    return Buffer.from(hkdfSync("sha256", this.#bytes, salt, KEK_INFO, 32));
  }

  toJSON(): string {
    return "[unlock key]";
  }

  [inspect.custom](): string {
    return "UnlockKey([redacted])";
  }
}
