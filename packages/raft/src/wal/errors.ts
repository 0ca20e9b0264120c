// Errors of the disk storage (write-ahead log and snapshot files). Each has a stable `code`, like the core's
// RaftError, and typed fields naming the file and offset concerned so an operator can act on it.

export type DiskStorageErrorCode =
  "ERR_DISK_DATA_LOSS" | "ERR_DISK_LOCKED" | "ERR_DISK_CLOSED" | "ERR_DISK_INVALID_ARGUMENT" | "ERR_DISK_KEY";

export class DiskStorageError extends Error {
  readonly code: DiskStorageErrorCode;

  constructor(code: DiskStorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Acknowledged data cannot be read back: a corrupt record in a sealed segment, a missing segment, a log
 *  that does not reach back to any usable snapshot. Never skipped silently: the node must not start. */
export class DataLossError extends DiskStorageError {
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(message: string, where: { file?: string; offset?: number } = {}, options?: { cause?: unknown }) {
    const at =
      where.file === undefined
        ? ""
        : ` (${where.file}${where.offset === undefined ? "" : ` at offset ${where.offset}`})`;
    super("ERR_DISK_DATA_LOSS", `${message}${at}`, options);
    this.file = where.file;
    this.offset = where.offset;
  }
}

/** Another process (or another Wal in this process) holds the directory. */
export class WalLockedError extends DiskStorageError {
  readonly dir: string;
  readonly holderPid: number | undefined;

  constructor(dir: string, holderPid: number | undefined, detail: string) {
    super("ERR_DISK_LOCKED", `write-ahead log ${dir} is locked: ${detail}`);
    this.dir = dir;
    this.holderPid = holderPid;
  }
}

/** An operation on a log or store after close(), or after a failed write left it in an unknown state. */
export class DiskClosedError extends DiskStorageError {
  constructor(what: string, options?: { cause?: unknown }) {
    super("ERR_DISK_CLOSED", `${what} is closed`, options);
  }
}

/** A caller broke the contract (entries not contiguous, index out of range, ...). */
export class DiskInvalidArgumentError extends DiskStorageError {
  constructor(message: string) {
    super("ERR_DISK_INVALID_ARGUMENT", message);
  }
}

/** Data on disk is sealed with a data key the caller did not give (or is sealed and no key was given): the
 *  wrong key, not corrupt data. Nothing was changed on disk. */
export class DiskKeyError extends DiskStorageError {
  readonly file: string;
  /** The id of the key the data needs. */
  readonly keyId: string;
  /** The ids of the keys given. */
  readonly knownKeyIds: readonly string[];

  constructor(file: string, keyId: string, knownKeyIds: readonly string[]) {
    super(
      "ERR_DISK_KEY",
      knownKeyIds.length === 0
        ? `${file} is encrypted (data key ${keyId}) and no data key was given`
        : `${file} is encrypted with data key ${keyId}, not with the key given (${knownKeyIds.join(", ")}): wrong key`,
    );
    this.file = file;
    this.keyId = keyId;
    this.knownKeyIds = knownKeyIds;
  }
}
