// Transactions: what `view` and `update` hand to their callback. Reads give copies; writes are
// checked against the state the transaction sees (the store plus its own earlier writes) and
// collected, one net change per object, into the StoreActions of one Raft entry.
import {
  ErrorCode,
  InvalidArgumentError,
  NotFoundError,
  SequenceConflictError,
  ShoalError,
  StoreActionKind,
  type StoreAction,
} from "@shoal/shared";
import { ownDate } from "./query.js";
import type { Table } from "./table.js";
import { storeAction, type QueryTypes, type TableObject, type Tables } from "./tables.js";
import { versionOf, type StoreObject, type TableName, type TableTypes } from "./types.js";

export interface TableReader<T, Q> {
  /** A copy of the object with this id, or undefined. */
  get(id: string): T | undefined;
  /** Copies of the objects matching every field of `query` (all objects without one), in no set order. */
  find(query?: Q): T[];
  /**
   * The objects `find` would copy, not copied: the store's own, or this transaction's, as
   * SwarmKit's store hands out its objects. Only to read: never to change (copy first: `get` or
   * `find`), nor to hand out where something could change them. The store replaces an object on
   * every write and never changes one it holds, so an object read stays as it was. For passes
   * over large tables (counts, indexes, plans that pick a few), where copying 100,000 tasks cost
   * seconds and most of the garbage collector's time.
   */
  scan(query?: Q): readonly Readonly<T>[];
}

export interface TableWriter<T, Q> extends TableReader<T, Q> {
  /**
   * Adds a copy of `obj`. Its id must be set and free, and in tables with unique names
   * (services, clusters) its name too (else a ShoalError ALREADY_EXISTS). The store sets its meta:
   * created and updated now, version the index of the entry that commits it.
   */
  create(obj: T): void;
  /**
   * Replaces the object with `obj`'s id by a copy of `obj`. `obj.meta.version` must be the
   * version stored (read it, change it, write it back), else SequenceConflictError; an unknown id
   * is a NotFoundError. The store keeps created_at and sets updated_at.
   */
  update(obj: T): void;
  /** Removes the object with this id (NotFoundError if there is none). */
  delete(id: string): void;
}

/** A consistent read of the store: valid only during the callback of `view`. */
export type ReadTx = { readonly [K in TableName]: TableReader<TableTypes[K], QueryTypes[K]> };

/** A transaction: valid only during the callback of `update`. */
export type WriteTx = { readonly [K in TableName]: TableWriter<TableTypes[K], QueryTypes[K]> };

interface Change<T> {
  /** The stored object when the transaction started (the store's own; never handed out). */
  readonly before: T | undefined;
  /** The object as the transaction leaves it (the transaction's own copy). */
  readonly after: T | undefined;
  /** Deleted and created again within the transaction: a remove and a create, not an update. */
  readonly recreated: boolean;
}

/** What the tables of one transaction share. */
class TxState {
  /** Objects touched, in order of first touch: the order of the entry's actions. */
  readonly touched = new Map<string, { readonly table: TxTable<StoreObject, unknown>; readonly id: string }>();
  done = false;

  /** `now` is undefined for a read-only transaction. */
  constructor(readonly now: number | undefined) {}
}

class TxTable<T extends StoreObject, Q> implements TableWriter<T, Q> {
  private readonly changes = new Map<string, Change<T>>();

  constructor(
    private readonly table: Table<T, Q>,
    private readonly state: TxState,
  ) {}

  get(id: string): T | undefined {
    this.checkOpen();
    const obj = this.current(id);
    return obj === undefined ? undefined : this.table.schema.copy(obj);
  }

  find(query?: Q): T[] {
    this.checkOpen();
    const q = query ?? ({} as Q);
    const { copy, matches } = this.table.schema;
    const out: T[] = [];
    for (const obj of this.table.find(q)) if (!this.changes.has(obj.id)) out.push(copy(obj));
    for (const change of this.changes.values()) {
      if (change.after !== undefined && matches(change.after, q)) out.push(copy(change.after));
    }
    return out;
  }

  scan(query?: Q): readonly Readonly<T>[] {
    this.checkOpen();
    const q = query ?? ({} as Q);
    const out: T[] = [];
    if (this.changes.size === 0) return this.table.find(q);
    for (const obj of this.table.find(q)) if (!this.changes.has(obj.id)) out.push(obj);
    for (const change of this.changes.values()) {
      if (change.after !== undefined && this.table.schema.matches(change.after, q)) out.push(change.after);
    }
    return out;
  }

  create(obj: T): void {
    const now = this.checkWritable();
    const { kind, uniqueName } = this.table.schema;
    if (typeof obj?.id !== "string" || obj.id === "")
      throw new InvalidArgumentError(`${kind} without an id`, { field: "id" });
    const id = obj.id;
    if (this.current(id) !== undefined) {
      throw new ShoalError(ErrorCode.AlreadyExists, `${kind} ${id} already exists`, { details: { kind, id } });
    }
    const name = uniqueName?.(obj);
    if (name !== undefined) this.checkNameFree(name, id);
    const copy = this.table.schema.copy(obj);
    copy.meta = { version: { index: 0 }, createdAt: new Date(now), updatedAt: new Date(now) };
    const prior = this.changes.get(id); // only a deletion earlier in this transaction
    this.record(id, { before: prior?.before, after: copy, recreated: prior?.before !== undefined });
  }

  update(obj: T): void {
    const now = this.checkWritable();
    const { kind, uniqueName } = this.table.schema;
    const id = obj?.id;
    if (typeof id !== "string" || id === "") throw new InvalidArgumentError(`${kind} without an id`, { field: "id" });
    const current = this.current(id);
    if (current === undefined) throw new NotFoundError(kind, id);
    const version = versionOf(current);
    if (versionOf(obj) !== version) {
      throw new SequenceConflictError(
        `${kind} ${id}: update of version ${versionOf(obj)}, but the store has ${version}`,
        {
          details: { kind, id, version: versionOf(obj), storedVersion: version },
        },
      );
    }
    const name = uniqueName?.(obj);
    if (name !== undefined && name !== uniqueName?.(current)) this.checkNameFree(name, id);
    const copy = this.table.schema.copy(obj);
    copy.meta = { version: { index: version }, createdAt: ownDate(current.meta?.createdAt), updatedAt: new Date(now) };
    const prior = this.changes.get(id);
    this.record(id, {
      before: prior ? prior.before : this.table.get(id),
      after: copy,
      recreated: prior?.recreated ?? false,
    });
  }

  delete(id: string): void {
    this.checkWritable();
    if (this.current(id) === undefined) throw new NotFoundError(this.table.schema.kind, id);
    const prior = this.changes.get(id);
    if (prior !== undefined && prior.before === undefined)
      this.changes.delete(id); // created here: nothing left
    else this.record(id, { before: prior ? prior.before : this.table.get(id), after: undefined, recreated: false });
  }

  /** The actions that make the net change to one object (none, one, or a remove and a create). */
  actionsFor(id: string): StoreAction[] {
    const change = this.changes.get(id);
    if (change === undefined) return [];
    const { before, after, recreated } = change;
    const table = this.table.schema.table;
    const action = (kind: StoreActionKind, object: T): StoreAction =>
      storeAction(kind, { table, object } as unknown as TableObject);
    if (after === undefined)
      return before === undefined ? [] : [action(StoreActionKind.REMOVE, this.table.schema.copy(before))];
    if (before === undefined) return [action(StoreActionKind.CREATE, after)];
    if (!recreated) return [action(StoreActionKind.UPDATE, after)];
    return [action(StoreActionKind.REMOVE, this.table.schema.copy(before)), action(StoreActionKind.CREATE, after)];
  }

  private current(id: string): T | undefined {
    const change = this.changes.get(id);
    return change !== undefined ? change.after : this.table.get(id);
  }

  private record(id: string, change: Change<T>): void {
    this.changes.set(id, change);
    const key = `${this.table.schema.table}\u0000${id}`;
    if (!this.state.touched.has(key)) {
      this.state.touched.set(key, { table: this as unknown as TxTable<StoreObject, unknown>, id });
    }
  }

  private checkNameFree(name: string, id: string): void {
    const { kind, uniqueName } = this.table.schema;
    let holder: string | undefined;
    for (const other of this.table.lookup("name", name)) {
      if (other !== id && !this.changes.has(other)) holder = other;
    }
    for (const [other, change] of this.changes) {
      if (other !== id && change.after !== undefined && uniqueName?.(change.after) === name) holder = other;
    }
    if (holder !== undefined) {
      throw new ShoalError(
        ErrorCode.AlreadyExists,
        `${kind} name ${JSON.stringify(name)} is taken by ${kind} ${holder}`,
        {
          details: { kind, name, id: holder },
        },
      );
    }
  }

  private checkOpen(): void {
    if (this.state.done)
      throw new ShoalError(ErrorCode.FailedPrecondition, "transaction used after its callback returned");
  }

  private checkWritable(): number {
    this.checkOpen();
    if (this.state.now === undefined) throw new ShoalError(ErrorCode.FailedPrecondition, "write in a read-only view");
    return this.state.now;
  }
}

/** One transaction over `tables`; `now` (ms) makes it writable. */
export class Transaction {
  private readonly state: TxState;
  readonly tx: WriteTx;

  constructor(tables: Tables, now?: number) {
    this.state = new TxState(now);
    this.tx = {
      nodes: new TxTable(tables.nodes, this.state),
      services: new TxTable(tables.services, this.state),
      tasks: new TxTable(tables.tasks, this.state),
      clusters: new TxTable(tables.clusters, this.state),
      secrets: new TxTable(tables.secrets, this.state),
      configs: new TxTable(tables.configs, this.state),
      networks: new TxTable(tables.networks, this.state),
    };
  }

  /** Ends the transaction: its tables refuse every later call. */
  close(): void {
    this.state.done = true;
  }

  /** The net changes, one entry's worth, in the order the objects were first touched. */
  actions(): StoreAction[] {
    const out: StoreAction[] = [];
    for (const { table, id } of this.state.touched.values()) out.push(...table.actionsFor(id));
    return out;
  }
}
