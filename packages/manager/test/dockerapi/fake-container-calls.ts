// A Containers service in memory for the Docker API's tests: every open is recorded with its
// input; INSPECT answers a running container, TOP a process list, STATS `samples` samples, EXEC
// and ATTACH echo their stdin back (on stdout, or as TTY output) and exit with `exitCode` once
// stdin is closed or says "exit" (at once when the call takes no stdin). The container "nope" is NOT_FOUND.
import {
  ContainerOp,
  ContainerOutputStream,
  ErrorCode,
  ShoalError,
  type ContainerCallOpen,
  type ContainerCallResponse,
} from "@shoal/shared";
import type {
  ContainerCallInput,
  ContainerCallSession,
  ContainerCalls,
} from "../../src/containers/container-calls-client.js";

export interface FakeCall {
  readonly open: ContainerCallOpen;
  readonly input: ContainerCallInput[];
  cancelled: boolean;
}

export class FakeContainerCalls implements ContainerCalls {
  readonly calls: FakeCall[] = [];
  exitCode = 7;
  samples = 2;

  open(open: ContainerCallOpen, signal: AbortSignal): ContainerCallSession {
    const call: FakeCall = { open, input: [], cancelled: false };
    this.calls.push(call);
    const queue: ContainerCallResponse[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const push = (output: ContainerCallResponse["output"]): void => {
      queue.push({ output });
      wake?.();
    };
    const finish = (): void => {
      ended = true;
      wake?.();
    };
    signal.addEventListener("abort", () => {
      call.cancelled = true;
      finish();
    });
    const exitCode = this.exitCode;
    const tty = open.exec?.tty ?? false;
    const takesStdin = open.op === ContainerOp.EXEC ? open.exec?.attachStdin : open.attach?.stdin;
    const notFound = open.container === "nope";
    if (!notFound) {
      push({
        $case: "started",
        value: { taskId: "t1", nodeId: "n2", containerId: "c".repeat(64), serviceId: "s1", execId: "" },
      });
    }
    const json = (value: unknown): void => push({ $case: "json", value: Buffer.from(JSON.stringify(value)) });
    switch (open.op) {
      case ContainerOp.INSPECT:
        json({ Id: "c".repeat(64), Name: "/web.1.t1", State: { Running: true }, Config: { Tty: false } });
        finish();
        break;
      case ContainerOp.TOP:
        json({ Titles: ["PID", "CMD"], Processes: [["1", "sleep 1000"]] });
        finish();
        break;
      case ContainerOp.STATS:
        for (let i = 0; i < (open.stats?.stream ? this.samples : 1); i++)
          json({ id: "c".repeat(64), read: `sample ${i}` });
        finish();
        break;
      default:
        if (!takesStdin) {
          push({ $case: "data", value: { stream: ContainerOutputStream.STDOUT, data: Buffer.from("no input\n") } });
          push({ $case: "exit", value: { exitCode } });
          finish();
        }
    }
    const responses = async function* (): AsyncGenerator<ContainerCallResponse> {
      if (notFound) throw new ShoalError(ErrorCode.NotFound, "task container nope not found");
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    };
    return {
      responses: responses(),
      write: (input) => {
        call.input.push(input);
        if (input.$case === "stdin") {
          const stream = tty ? ContainerOutputStream.TTY : ContainerOutputStream.STDOUT;
          push({ $case: "data", value: { stream, data: Buffer.from(input.value) } });
        }
        if (input.$case === "closeStdin" || (input.$case === "stdin" && Buffer.from(input.value).includes("exit"))) {
          push({ $case: "exit", value: { exitCode } });
          finish();
        }
      },
      end: () => undefined,
    };
  }
}
