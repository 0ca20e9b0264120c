// One table of the store: the objects by id, plus secondary indexes. It holds the store's own
// objects, which nobody else sees or mutates; copying in and out is the caller's business.
import type { StoreObject, TableName } from "./types.js";

export type IndexKey = string | number;

export interface IndexDef<T> {
  readonly name: string;
  /** The object's key in this index, or undefined to leave it out. */
  readonly key: (obj: T) => IndexKey | undefined;
}

/** A query narrowed to one bucket of one index. */
export interface Lookup {
  readonly index: string;
  readonly key: IndexKey;
}

/** What distinguishes one table from another; each table file (nodes.ts, tasks.ts ...) makes one. */
export interface TableSchema<T extends StoreObject, Q> {
  readonly table: TableName;
  /** The object kind in messages: "task". */
  readonly kind: string;
  readonly indexes: readonly IndexDef<T>[];
  /** Set for tables whose names are unique: the name an object claims ("" or undefined: none). */
  readonly uniqueName?: (obj: T) => string | undefined;
  /** A deep copy that shares nothing with `obj`. */
  copy(obj: T): T;
  /** Index buckets that hold every match of `q` (the smallest is scanned); none: scan the table. */
  lookups(q: Q): readonly Lookup[];
  /** Whether `obj` matches all of `q`. */
  matches(obj: T, q: Q): boolean;
}

/** Keeps equal sub-objects shared while objects are in a table (see intern.ts). */
export interface Interner<T> {
  retain(obj: T): void;
  release(obj: T): void;
}

const EMPTY: ReadonlySet<string> = new Set();

/** Ids under one index key: a single id is held as is, a Set only from the second one (slots hold few). */
type Bucket = string | Set<string>;

export class Table<T extends StoreObject, Q> {
  private readonly rows = new Map<string, T>();
  private readonly indexes = new Map<string, { def: IndexDef<T>; buckets: Map<IndexKey, Bucket> }>();

  constructor(
    readonly schema: TableSchema<T, Q>,
    private readonly interners: readonly Interner<T>[] = [],
  ) {
    for (const def of schema.indexes) this.indexes.set(def.name, { def, buckets: new Map() });
  }

  get size(): number {
    return this.rows.size;
  }

  get(id: string): T | undefined {
    return this.rows.get(id);
  }

  values(): IterableIterator<T> {
    return this.rows.values();
  }

  /** Stores `obj`, which the table now owns, in place of the object with its id; returns that one. */
  put(obj: T): T | undefined {
    const prev = this.rows.get(obj.id);
    for (const interner of this.interners) interner.retain(obj);
    this.rows.set(obj.id, obj);
    for (const { def, buckets } of this.indexes.values()) {
      const oldKey = prev === undefined ? undefined : def.key(prev);
      const newKey = def.key(obj);
      if (oldKey === newKey) continue;
      if (oldKey !== undefined) unindex(buckets, oldKey, obj.id);
      if (newKey !== undefined) index(buckets, newKey, obj.id);
    }
    if (prev !== undefined) for (const interner of this.interners) interner.release(prev);
    return prev;
  }

  /** Removes the object with this id; returns it. */
  remove(id: string): T | undefined {
    const prev = this.rows.get(id);
    if (prev === undefined) return undefined;
    this.rows.delete(id);
    for (const { def, buckets } of this.indexes.values()) {
      const key = def.key(prev);
      if (key !== undefined) unindex(buckets, key, id);
    }
    for (const interner of this.interners) interner.release(prev);
    return prev;
  }

  /** Ids of the objects whose key in `index` is `key`. */
  lookup(index: string, key: IndexKey): ReadonlySet<string> {
    const idx = this.indexes.get(index);
    if (idx === undefined) throw new Error(`table ${this.schema.table} has no index ${index}`);
    const bucket = idx.buckets.get(key);
    return bucket === undefined ? EMPTY : typeof bucket === "string" ? new Set([bucket]) : bucket;
  }

  /** The stored objects matching `q`, in the order of the bucket (or table) scanned. */
  find(q: Q): T[] {
    const out: T[] = [];
    const bucket = this.narrowest(q);
    if (bucket === undefined) {
      for (const obj of this.rows.values()) if (this.schema.matches(obj, q)) out.push(obj);
      return out;
    }
    for (const id of bucket) {
      const obj = this.rows.get(id);
      if (obj !== undefined && this.schema.matches(obj, q)) out.push(obj);
    }
    return out;
  }

  private narrowest(q: Q): ReadonlySet<string> | undefined {
    let best: ReadonlySet<string> | undefined;
    for (const { index, key } of this.schema.lookups(q)) {
      const bucket = this.lookup(index, key);
      if (best === undefined || bucket.size < best.size) best = bucket;
      if (best.size === 0) break;
    }
    return best;
  }
}

function index(buckets: Map<IndexKey, Bucket>, key: IndexKey, id: string): void {
  const bucket = buckets.get(key);
  if (bucket === undefined) buckets.set(key, id);
  else if (typeof bucket === "string") buckets.set(key, new Set([bucket, id]));
  else bucket.add(id);
}

function unindex(buckets: Map<IndexKey, Bucket>, key: IndexKey, id: string): void {
  const bucket = buckets.get(key);
  if (bucket === undefined) return;
  if (typeof bucket === "string") {
    if (bucket === id) buckets.delete(key);
    return;
  }
  bucket.delete(id);
  if (bucket.size === 1) buckets.set(key, bucket.values().next().value!);
}
