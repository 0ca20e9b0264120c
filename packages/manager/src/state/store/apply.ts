// Applying one committed entry to the tables: every manager runs this for every entry, in order,
// so it depends on nothing but the tables and the entry (no clock, no randomness). An entry is
// applied whole or not at all: each action is checked against the state the previous ones left
// (create: id free; update and remove: the object exists at the version the transaction read),
// unique names are checked on the result, and on any failure the tables are put back as they were.
// Managers that hold the same state reject the same entries, so they stay identical.
//
// The objects of the actions become the store's own (stamped with their version and kept as they
// are): entries come freshly decoded from the log, so copying them again would only cost time.
import {
  ErrorCode,
  InvalidArgumentError,
  NotFoundError,
  SequenceConflictError,
  ShoalError,
  StoreActionKind,
  type StoreAction,
} from "@shoal/shared";
import type { Table } from "./table.js";
import { fromTarget, type Tables } from "./tables.js";
import { versionOf, type ObjectEventKind, type StoreObject, type TableName } from "./types.js";

/** One change an entry made, holding the store's own objects (copied before anyone sees them). */
export interface AppliedChange {
  readonly kind: ObjectEventKind;
  readonly table: TableName;
  readonly object: StoreObject;
  readonly oldObject?: StoreObject;
}

type AnyTable = Table<StoreObject, unknown>;

/**
 * Applies `actions` as the entry at `index`, taking their objects; throws (a ShoalError) with the
 * tables unchanged if it is rejected.
 */
export function applyActions(tables: Tables, index: number, actions: readonly StoreAction[]): AppliedChange[] {
  const undo: Array<{ readonly table: AnyTable; readonly id: string; readonly prev: StoreObject | undefined }> = [];
  const changes: AppliedChange[] = [];
  try {
    for (const action of actions) {
      const { table: name, object } = fromTarget(action.target);
      const table = tables[name] as unknown as AnyTable;
      const { kind } = table.schema;
      const id = object.id;
      if (id === "") throw new InvalidArgumentError(`${kind} without an id`, { field: "id" });
      const current = table.get(id);
      switch (action.kind) {
        case StoreActionKind.CREATE: {
          if (current !== undefined) {
            throw new ShoalError(ErrorCode.AlreadyExists, `${kind} ${id} already exists`, { details: { kind, id } });
          }
          const stored = stamp(object, index);
          undo.push({ table, id, prev: undefined });
          table.put(stored);
          changes.push({ kind: "create", table: name, object: stored });
          break;
        }
        case StoreActionKind.UPDATE: {
          checkVersion(kind, id, object, current);
          const stored = stamp(object, index);
          undo.push({ table, id, prev: current });
          table.put(stored);
          changes.push({ kind: "update", table: name, object: stored, oldObject: current });
          break;
        }
        case StoreActionKind.REMOVE: {
          checkVersion(kind, id, object, current);
          undo.push({ table, id, prev: current });
          table.remove(id);
          changes.push({ kind: "delete", table: name, object: current });
          break;
        }
        default:
          throw new InvalidArgumentError(`store action of unknown kind ${action.kind}`, { field: "kind" });
      }
    }
    checkUniqueNames(tables, changes);
  } catch (err: unknown) {
    for (let i = undo.length - 1; i >= 0; i--) {
      const { table, id, prev } = undo[i]!;
      if (prev === undefined) table.remove(id);
      else table.put(prev);
    }
    throw err;
  }
  return changes;
}

function checkVersion(
  kind: string,
  id: string,
  object: StoreObject,
  current: StoreObject | undefined,
): asserts current {
  if (current === undefined) throw new NotFoundError(kind, id);
  if (versionOf(object) !== versionOf(current)) {
    throw new SequenceConflictError(
      `${kind} ${id}: written at version ${versionOf(object)}, but it is at ${versionOf(current)}`,
      {
        details: { kind, id, version: versionOf(object), storedVersion: versionOf(current) },
      },
    );
  }
}

/** The version of an object is the index of the entry that last wrote it. */
function stamp<T extends StoreObject>(obj: T, index: number): T {
  if (obj.meta === undefined) obj.meta = { version: { index }, createdAt: undefined, updatedAt: undefined };
  else obj.meta.version = { index };
  return obj;
}

function checkUniqueNames(tables: Tables, changes: readonly AppliedChange[]): void {
  for (const change of changes) {
    if (change.kind === "delete") continue;
    const table = tables[change.table] as unknown as AnyTable;
    const name = table.schema.uniqueName?.(change.object);
    if (name !== undefined && table.lookup("name", name).size > 1) {
      const { kind } = table.schema;
      throw new ShoalError(ErrorCode.AlreadyExists, `${kind} name ${JSON.stringify(name)} is taken`, {
        details: { kind, name, id: change.object.id },
      });
    }
  }
}
