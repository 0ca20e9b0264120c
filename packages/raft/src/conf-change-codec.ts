// The payload of a confChange entry. Raft only looks at an entry's type; the application decodes the
// payload of committed confChange entries and hands the ConfChange back to applyConfChange().
// Layout: version (1 byte) | type (1 byte: 1 add, 2 remove) | node id (8 bytes, big-endian uint64) | context.
import type { ConfChange, ConfChangeType } from "./types.js";

const VERSION = 1;
const HEADER = 10;

const TYPE_CODES: Record<ConfChangeType, number> = { addNode: 1, removeNode: 2 };

export class ConfChangeDecodeError extends Error {
  readonly code = "ERR_RAFT_CONF_CHANGE_DECODE";
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId <= 0) {
    throw new RangeError(`invalid node id ${cc.nodeId}`);
  }
  const out = new Uint8Array(HEADER + cc.context.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, VERSION);
  view.setUint8(1, TYPE_CODES[cc.type]);
  view.setBigUint64(2, BigInt(cc.nodeId));
  out.set(cc.context, HEADER);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.byteLength < HEADER) throw new ConfChangeDecodeError("conf change too short");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint8(0) !== VERSION) throw new ConfChangeDecodeError(`unknown conf change version ${view.getUint8(0)}`);
  const code = view.getUint8(1);
  const type: ConfChangeType | undefined = code === 1 ? "addNode" : code === 2 ? "removeNode" : undefined;
  if (type === undefined) throw new ConfChangeDecodeError(`unknown conf change type ${code}`);
  const nodeId = Number(view.getBigUint64(2));
  if (!Number.isSafeInteger(nodeId)) throw new ConfChangeDecodeError(`node id out of range`);
  return { type, nodeId, context: data.slice(HEADER) };
}
