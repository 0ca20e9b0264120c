// RaftKeys: a manager's data keys (DEKs) for its Raft files, and their wrapping by the cluster's unlock key
// (SwarmKit's manager/deks.go). The manager opens it before Raft: locked, Raft waits for unlock(); then it
// follows the cluster object: autolock turned on wraps the keys with the unlock key (and rotates the DEK,
// since the old one was on disk in clear), a new unlock key re-wraps them, autolock turned off writes them
// in clear. The Raft disk replaces the data under a previous DEK at its next snapshot and says so
// (onKeysReleased), which drops that key from the file.
import type { DataKey as DataKeyType } from "@shoal/raft";
import { DataKey, KeyRing } from "@shoal/raft";
import type { DataKeys } from "./key-file.js";
import { ManagerLockedError, readKeyFile, unwrapKeys, writeKeyFile } from "./key-file.js";
import type { UnlockKey } from "./unlock-key.js";

export interface RaftKeysLogger {
  info(obj: Record<string, unknown>, msg: string): void;
}

export class RaftKeys {
  #keys: DataKeys | undefined;
  #unlockKey: UnlockKey | undefined;
  #locked: (Awaited<ReturnType<typeof readKeyFile>> & { locked: true }) | undefined;
  /** The ring handed to the Raft disk: kept in step with #keys. */
  #ring: KeyRing | undefined;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dataDir: string,
    private readonly logger: RaftKeysLogger,
  ) {}

  /** Read the key file; create one (a new DEK, in clear) when there is none. */
  static async open(dataDir: string, logger: RaftKeysLogger): Promise<RaftKeys> {
    const k = new RaftKeys(dataDir, logger);
    const read = await readKeyFile(dataDir);
    if (read === undefined) {
      k.#keys = { current: DataKey.generate(), previous: [] };
      await writeKeyFile(dataDir, k.#keys, undefined);
      logger.info({ key: k.#keys.current.id }, "created the data key of the Raft files");
    } else if (read.locked) {
      k.#locked = read;
    } else {
      k.#keys = read.keys;
    }
    return k;
  }

  /** Whether the keys wait for the unlock key. */
  get locked(): boolean {
    return this.#keys === undefined;
  }

  /** Whether the file on disk is wrapped with an unlock key (autolock on). */
  get autolocked(): boolean {
    return this.#locked !== undefined || this.#unlockKey !== undefined;
  }

  /** Open the keys with the unlock key. InvalidUnlockKeyError when it is not the right one. */
  unlock(unlockKey: UnlockKey): void {
    if (this.#locked === undefined) return;
    this.#keys = unwrapKeys(this.dataDir, this.#locked.file, unlockKey);
    this.#unlockKey = unlockKey;
    this.#locked = undefined;
  }

  /** The ring for the Raft disk (one ring, updated in place by rotations). ManagerLockedError if locked. */
  keyRing(): KeyRing {
    const keys = this.#keys;
    if (keys === undefined) throw new ManagerLockedError();
    this.#ring ??= new KeyRing(keys.current, keys.previous);
    return this.#ring;
  }

  /**
   * Follow the cluster's autolock: wrap the keys with `unlockKey`, or write them in clear when undefined.
   * Turning autolock on rotates the DEK (the old one was in clear on disk): the new key is returned, for
   * the Raft disk's rotateKey(); it is written (wrapped) before it is used.
   */
  setUnlockKey(unlockKey: UnlockKey | undefined): Promise<DataKeyType | undefined> {
    return this.serial(async () => {
      const keys = this.requireKeys();
      const same =
        unlockKey === undefined ? this.#unlockKey === undefined : this.#unlockKey?.equals(unlockKey) === true;
      if (same) return undefined;
      const wasClear = this.#unlockKey === undefined;
      let rotated: DataKeyType | undefined;
      if (wasClear && unlockKey !== undefined) {
        rotated = DataKey.generate();
        this.#keys = { current: rotated, previous: [keys.current, ...keys.previous] };
      }
      await writeKeyFile(this.dataDir, this.requireKeys(), unlockKey);
      this.#unlockKey = unlockKey;
      this.logger.info(
        { autolock: unlockKey !== undefined, rotatedTo: rotated?.id },
        unlockKey === undefined ? "data keys written unlocked (autolock off)" : "data keys wrapped with the unlock key",
      );
      return rotated;
    });
  }

  /** A new DEK for new writes (written first); the old one is kept until the disk releases it. */
  rotate(): Promise<DataKeyType> {
    return this.serial(async () => {
      const keys = this.requireKeys();
      const next = DataKey.generate();
      this.#keys = { current: next, previous: [keys.current, ...keys.previous] };
      await writeKeyFile(this.dataDir, this.#keys, this.#unlockKey);
      return next;
    });
  }

  /** The Raft disk no longer holds data under the keys not in `inUse`: forget them. */
  released(inUse: ReadonlySet<string>): Promise<void> {
    return this.serial(async () => {
      const keys = this.requireKeys();
      const previous = keys.previous.filter((k) => inUse.has(k.id));
      if (previous.length === keys.previous.length) return;
      this.#keys = { current: keys.current, previous };
      await writeKeyFile(this.dataDir, this.#keys, this.#unlockKey);
      this.logger.info({ kept: previous.map((k) => k.id) }, "forgot data keys no longer needed");
    });
  }

  /** The current and previous key ids (for tests and status). */
  keyIds(): { current: string; previous: string[] } | undefined {
    const keys = this.#keys;
    return keys === undefined ? undefined : { current: keys.current.id, previous: keys.previous.map((k) => k.id) };
  }

  private requireKeys(): DataKeys {
    if (this.#keys === undefined) throw new ManagerLockedError();
    return this.#keys;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(op, op);
    this.#chain = p.catch(() => undefined);
    return p;
  }
}
