// A Control API stand-in for command tests: answers from a function, records every call.
import type { Control } from "../../src/client.js";

export interface Recorded {
  method: string;
  request: unknown;
}

export function fakeControl(answer: (method: string, request: unknown) => unknown): {
  control: Pick<Control, "call">;
  calls: Recorded[];
} {
  const calls: Recorded[] = [];
  const call = async (method: string, request: unknown): Promise<unknown> => {
    calls.push({ method, request });
    return answer(method, request);
  };
  return { control: { call: call as Control["call"] }, calls };
}

/** A writable that keeps what is written. */
export function sink(): NodeJS.WritableStream & { text: string; isTTY: false } {
  const s = {
    text: "",
    isTTY: false as const,
    write(chunk: string): boolean {
      s.text += chunk;
      return true;
    },
  };
  return s as unknown as NodeJS.WritableStream & { text: string; isTTY: false };
}
