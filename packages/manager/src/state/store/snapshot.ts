// The store as bytes, for Raft snapshots. No new proto message: the format is a small header and a
// length-prefixed sequence of StoreAction CREATEs, one per object:
//
//   "SHLS" 0x01                      magic and format version
//   varint  index                    the last entry applied
//   varint  count                    objects that follow
//   count x (varint n, n bytes)      StoreAction { kind: CREATE, target: the object with its meta }
//
// Tables come in a fixed order (clusters, nodes, services, tasks, secrets, configs, networks) and objects by id, so equal
// states give equal bytes whatever their history. Each frame decodes with StoreAction.decode; a
// task's frame is put together by hand with its spec and service annotations last (protobuf
// allows fields in any order), so that the spec shared by a service's tasks is encoded once, and
// decoded once on restore. Restore decodes one object at a time, so a large snapshot never exists
// twice in decoded form.
import {
  Annotations,
  ErrorCode,
  ShoalError,
  StoreAction,
  StoreActionKind,
  Task,
  TaskSpec,
  Version,
} from "@shoal/shared";
import type { Table } from "./table.js";
import { createTables, fromTarget, toTarget, type TableObject, type Tables } from "./tables.js";
import { TABLE_NAMES, type StoreObject, type TableName } from "./types.js";

const MAGIC = [0x53, 0x48, 0x4c, 0x53, 0x01];

type AnyTable = Table<StoreObject, unknown>;

/**
 * The objects of a state, captured at one point. Stored objects are never changed in place (a
 * write replaces them), so holding them keeps this capture consistent while the store moves on.
 */
export interface Capture {
  readonly index: number;
  readonly objects: ReadonlyArray<{ readonly table: TableName; readonly list: readonly StoreObject[] }>;
}

export function capture(tables: Tables, index: number): Capture {
  const objects = TABLE_NAMES.map((table) => {
    const list = [...(tables[table] as unknown as AnyTable).values()];
    list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { table, list };
  });
  return { index, objects };
}

export function encodeSnapshot(tables: Tables, index: number): Uint8Array {
  const encoder = new SnapshotEncoder(capture(tables, index));
  while (!encoder.step(Infinity));
  return encoder.finish();
}

/** The protobuf writer of the generated code (whose runtime the manager does not import itself). */
type ProtoWriter = ReturnType<typeof StoreAction.encode>;

/** A new, empty writer: encoding a message whose fields are all default writes nothing. */
function newWriter(): ProtoWriter {
  return Version.encode({ index: 0 });
}

/**
 * Encodes a capture a slice at a time, so a large one need not block the event loop. Everything
 * goes through one writer (4x faster than a writer per object).
 */
export class SnapshotEncoder {
  private readonly out = newWriter();
  private table = 0;
  private next = 0;
  /** Encoded task specs and annotations by object: tasks of a service share them (intern.ts). */
  private readonly shared = new Map<object, Uint8Array>();

  constructor(private readonly state: Capture) {
    let count = 0;
    for (const { list } of state.objects) count += list.length;
    this.out.raw(Uint8Array.from(MAGIC)).uint64(state.index).uint64(count);
  }

  /** Encodes up to `budget` more objects; true when all are done. */
  step(budget: number): boolean {
    for (let done = 0; done < budget; done++) {
      const part = this.state.objects[this.table];
      if (part === undefined) return true;
      const object = part.list[this.next++];
      if (object === undefined) {
        this.table++;
        this.next = 0;
        continue;
      }
      this.out.fork();
      if (part.table === "tasks") this.task(object as Task);
      else
        StoreAction.encode(
          { kind: StoreActionKind.CREATE, target: toTarget({ table: part.table, object } as TableObject) },
          this.out,
        );
      this.out.join();
    }
    return this.state.objects[this.table] === undefined;
  }

  finish(): Uint8Array {
    return this.out.finish();
  }

  /**
   * A task's action, with its spec and service annotations last and taken from the cache (the
   * bytes decode as any StoreAction; they depend on the values only, not on the sharing).
   */
  private task(task: Task): void {
    const out = this.out;
    out.uint32(TAG_ACTION_KIND).uint32(StoreActionKind.CREATE);
    out.uint32(TAG_ACTION_TASK).fork();
    Task.encode({ ...task, spec: undefined, serviceAnnotations: undefined }, out);
    if (task.spec !== undefined) {
      const spec = task.spec;
      out.uint32(TAG_TASK_SPEC).bytes(this.cached(spec, () => TaskSpec.encode(spec).finish()));
    }
    if (task.serviceAnnotations !== undefined) {
      const ann = task.serviceAnnotations;
      out.uint32(TAG_TASK_SERVICE_ANNOTATIONS).bytes(this.cached(ann, () => Annotations.encode(ann).finish()));
    }
    out.join();
  }

  private cached(key: object, encode: () => Uint8Array): Uint8Array {
    let bytes = this.shared.get(key);
    if (bytes === undefined) this.shared.set(key, (bytes = encode()));
    return bytes;
  }
}

// Protobuf tags (field number << 3 | wire type) of the fields written by hand above.
const TAG_ACTION_KIND = (1 << 3) | 0; // StoreAction.kind
const TAG_ACTION_TASK = (4 << 3) | 2; // StoreAction.task
const TAG_TASK_SPEC = (3 << 3) | 2; // Task.spec
const TAG_TASK_SERVICE_ANNOTATIONS = (8 << 3) | 2; // Task.service_annotations

export function decodeSnapshot(bytes: Uint8Array): { index: number; tables: Tables } {
  try {
    for (let i = 0; i < MAGIC.length; i++)
      if (bytes[i] !== MAGIC[i]) throw new Error("not a store snapshot (bad magic)");
    const cursor = { pos: MAGIC.length };
    const index = readVarint(bytes, cursor);
    const count = readVarint(bytes, cursor);
    const tables = createTables();
    const shared = new SharedDecoder();
    for (let i = 0; i < count; i++) {
      const length = readVarint(bytes, cursor);
      if (cursor.pos + length > bytes.length) throw new Error("truncated");
      const frame = bytes.subarray(cursor.pos, cursor.pos + length);
      cursor.pos += length;
      const task = decodeTaskFrame(frame, shared);
      const action = task
        ? { kind: StoreActionKind.CREATE, target: toTarget({ table: "tasks", object: task }) }
        : StoreAction.decode(frame);
      if (action.kind !== StoreActionKind.CREATE) throw new Error(`object ${i} is not a create`);
      const { table: name, object } = fromTarget(action.target);
      const table = tables[name] as unknown as AnyTable;
      if (object.id === "" || table.get(object.id) !== undefined)
        throw new Error(`${name}: bad or repeated id "${object.id}"`);
      table.put(object);
    }
    if (cursor.pos !== bytes.length) throw new Error("trailing bytes");
    for (const name of TABLE_NAMES) checkUniqueNames(tables[name] as unknown as AnyTable);
    return { index, tables };
  } catch (err: unknown) {
    if (err instanceof ShoalError && err.code === ErrorCode.DataLoss) throw err;
    throw new ShoalError(ErrorCode.DataLoss, `store snapshot does not decode: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Decodes each distinct spec (or annotations) once: equal bytes give one shared object. */
class SharedDecoder {
  private readonly specs = new Map<string, TaskSpec>();
  private readonly annotations = new Map<string, Annotations>();

  spec(bytes: Uint8Array): TaskSpec {
    return once(this.specs, bytes, TaskSpec.decode);
  }

  annotation(bytes: Uint8Array): Annotations {
    return once(this.annotations, bytes, Annotations.decode);
  }
}

function once<T>(cache: Map<string, T>, bytes: Uint8Array, decode: (b: Uint8Array) => T): T {
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = decode(bytes)));
  return value;
}

/**
 * A task frame as SnapshotEncoder writes it (kind, then the task with its spec and service
 * annotations last), decoded with the spec and annotations taken from `shared`: 3x faster than
 * StoreAction.decode. Undefined for any other frame, which then takes the generic decoder.
 */
function decodeTaskFrame(frame: Uint8Array, shared: SharedDecoder): Task | undefined {
  if (frame[0] !== TAG_ACTION_KIND || frame[1] !== StoreActionKind.CREATE || frame[2] !== TAG_ACTION_TASK)
    return undefined;
  const cursor = { pos: 3 };
  const length = readVarint(frame, cursor);
  if (cursor.pos + length !== frame.length) return undefined;
  const body = frame.subarray(cursor.pos);
  let restEnd = -1;
  let spec: Uint8Array | undefined;
  let annotations: Uint8Array | undefined;
  const at = { pos: 0 };
  while (at.pos < body.length) {
    const start = at.pos;
    const tag = readVarint(body, at);
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 3 || field === 8) {
      if (wireType !== 2) return undefined;
      const n = readVarint(body, at);
      if (at.pos + n > body.length) return undefined;
      const value = body.subarray(at.pos, at.pos + n);
      at.pos += n;
      if (restEnd === -1) restEnd = start;
      if (field === 3) spec = value;
      else annotations = value;
      continue;
    }
    if (restEnd !== -1) return undefined; // another field after them: not our layout
    if (wireType === 0) readVarint(body, at);
    else if (wireType === 1) at.pos += 8;
    else if (wireType === 5) at.pos += 4;
    else if (wireType === 2) {
      const n = readVarint(body, at); // read before adding: `at.pos += readVarint(...)` would lose the varint
      at.pos += n;
    } else return undefined;
  }
  if (at.pos !== body.length) return undefined;
  const task = Task.decode(restEnd === -1 ? body : body.subarray(0, restEnd));
  if (spec !== undefined) task.spec = shared.spec(spec);
  if (annotations !== undefined) task.serviceAnnotations = shared.annotation(annotations);
  return task;
}

function checkUniqueNames(table: AnyTable): void {
  const uniqueName = table.schema.uniqueName;
  if (uniqueName === undefined) return;
  for (const obj of table.values()) {
    const name = uniqueName(obj);
    if (name !== undefined && table.lookup("name", name).size > 1)
      throw new Error(`${table.schema.table}: name "${name}" repeated`);
  }
}

// Varints as protobuf writes them (7 bits a byte, low first), for integers up to 2^53.

function readVarint(bytes: Uint8Array, cursor: { pos: number }): number {
  let n = 0;
  let scale = 1;
  for (;;) {
    if (cursor.pos >= bytes.length) throw new Error("truncated");
    const b = bytes[cursor.pos++]!;
    n += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 0x80;
    if (scale > 2 ** 56) throw new Error("varint too long");
  }
  if (!Number.isSafeInteger(n)) throw new Error("varint out of range");
  return n;
}
