// Sharing of equal sub-objects between stored objects, to keep the store small.
//
// The tasks of one service carry the same spec (copied from the service when each task is made)
// and the same service annotations: 3/4 of a task's memory. Since the store never mutates a stored
// object and hands out only copies, tasks whose spec is equal can point to one spec object: a
// manager holding 100,000 tasks then needs about 90 MB for them instead of about 380 MB. Sharing is
// invisible from outside (readers get deep copies), so it plays no part in determinism.

/**
 * Deep equality of decoded protobuf values (plain objects, arrays, Dates, Uint8Arrays, primitives),
 * strict enough that sharing is invisible: -0 is not 0, and object keys must come in the same order.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(b) || b instanceof Date || b instanceof Uint8Array) return false;
  // Keys must also come in the same order: a map's order shows in copies and in encoded bytes.
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra);
  const kb = Object.keys(rb);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i] || !deepEqual(ra[k], rb[k])) return false;
  }
  return true;
}

export interface InternField<T, V> {
  /** Which objects may share the field: equal keys are likely to hold equal values. */
  key(obj: T): string | undefined;
  get(obj: T): V | undefined;
  set(obj: T, value: V): void;
}

interface Canonical<V> {
  readonly value: V;
  refs: number;
}

/**
 * Shares one field among objects with the same key and an equal value. The first object stored
 * under a key gives the canonical value; later ones with an equal value point to it; one with a
 * different value keeps its own (no sharing, no harm). Reference counts free a canonical value
 * when the last object using it leaves the table.
 */
export class FieldInterner<T, V> {
  private readonly canon = new Map<string, Canonical<V>>();

  constructor(private readonly field: InternField<T, V>) {}

  /** Points `obj`'s field to the shared value when equal; call once per object entering the table. */
  retain(obj: T): void {
    const key = this.field.key(obj);
    const value = this.field.get(obj);
    if (key === undefined || value === undefined) return;
    const entry = this.canon.get(key);
    if (entry === undefined) {
      this.canon.set(key, { value, refs: 1 });
    } else if (entry.value === value || deepEqual(entry.value, value)) {
      this.field.set(obj, entry.value);
      entry.refs++;
    }
  }

  /** Call once per object leaving the table. */
  release(obj: T): void {
    const key = this.field.key(obj);
    if (key === undefined) return;
    const entry = this.canon.get(key);
    if (entry !== undefined && entry.value === this.field.get(obj) && --entry.refs === 0) this.canon.delete(key);
  }

  /** Distinct shared values held (for tests and metrics). */
  get size(): number {
    return this.canon.size;
  }
}
