// Docker's log stream format, pure: lines framed as in `docker logs` over a non-TTY stream (an
// 8-byte header: stream 1 stdout or 2 stderr, three zero bytes, the length as big-endian u32),
// each optionally led by its RFC 3339 time with nanoseconds and by the task's details.
import { LogStream, type LogMessage, type LogTimestamp } from "@shoal/shared";

/** Go's time.RFC3339Nano: trailing zeros of the fraction dropped, no fraction when it is zero. */
export function rfc3339Nano(t: LogTimestamp | undefined): string {
  const seconds = t?.seconds ?? 0;
  const nanos = t?.nanos ?? 0;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  const fraction = nanos === 0 ? "" : `.${String(nanos).padStart(9, "0").replace(/0+$/, "")}`;
  return `${base}${fraction}Z`;
}

/** Parses the time Docker puts before each line with timestamps=1; undefined if there is none. */
export function parseRfc3339Nano(text: string): LogTimestamp | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return { seconds: Math.floor(ms / 1000), nanos: Number((m[2] ?? "").padEnd(9, "0")) };
}

export function compareTimestamps(a: LogTimestamp | undefined, b: LogTimestamp | undefined): number {
  return (a?.seconds ?? 0) - (b?.seconds ?? 0) || (a?.nanos ?? 0) - (b?.nanos ?? 0);
}

export interface LineFormat {
  readonly timestamps: boolean;
  readonly details: boolean;
}

/** The text of one line as `docker service logs` receives it. */
export function formatLine(message: LogMessage, format: LineFormat): Buffer {
  const parts: string[] = [];
  if (format.timestamps) parts.push(`${rfc3339Nano(message.timestamp)} `);
  if (format.details) {
    const c = message.context;
    parts.push(
      `com.docker.swarm.node.id=${c?.nodeId ?? ""},com.docker.swarm.service.id=${c?.serviceId ?? ""},com.docker.swarm.task.id=${c?.taskId ?? ""} `,
    );
  }
  return Buffer.concat([Buffer.from(parts.join("")), Buffer.from(message.data)]);
}

/** One frame of Docker's multiplexed stream. */
export function frame(stream: LogStream, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream === LogStream.STDERR ? 2 : 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
