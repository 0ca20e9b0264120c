// A client of this manager's own Containers service (ContainerCall), for the parts of the manager
// that serve other protocols: the Docker API and the dashboard. It calls over loopback with the
// manager's certificate, so the manager vouches for the caller: for exec and attach, `open.caller`
// must name the client certificate the HTTPS request was verified with. Set it only when that
// certificate's role is client: for any other caller leave it empty, and exec and attach are
// refused (PERMISSION_DENIED, docs/security.md). Other operations need no caller.
import {
  ContainersClient,
  MANAGER_CHANNEL_OPTIONS,
  channelCredentials,
  serverStream,
  type ContainerCallOpen,
  type ContainerCallRequest,
  type ContainerCallResponse,
  type TlsMaterial,
} from "@shoal/shared";

/** What a client sends after `open`: stdin, a terminal resize, or the end of stdin. */
export type ContainerCallInput = Exclude<ContainerCallRequest["input"], { $case: "open" } | undefined>;

/** One open container call. */
export interface ContainerCallSession {
  /**
   * The answers: `started` first, then output. The iteration ends when the call does; a failed
   * call throws a ShoalError (NOT_FOUND, UNAVAILABLE, PERMISSION_DENIED...). Leaving the loop early
   * or aborting the signal cancels the call (the agent kills an exec).
   */
  readonly responses: AsyncIterable<ContainerCallResponse>;
  /** Sends input to the container (ignored once the call ended). */
  write(input: ContainerCallInput): void;
  /** No more input from this side (half-close; the call goes on). */
  end(): void;
}

/** Opens container calls; the Docker API and the dashboard code against this. */
export interface ContainerCalls {
  open(open: ContainerCallOpen, signal: AbortSignal): ContainerCallSession;
}

export class LoopbackContainerCalls implements ContainerCalls {
  private readonly client: ContainersClient;

  constructor(address: string, material: TlsMaterial) {
    this.client = new ContainersClient(address, channelCredentials(material), MANAGER_CHANNEL_OPTIONS);
  }

  open(open: ContainerCallOpen, signal: AbortSignal): ContainerCallSession {
    const call = this.client.containerCall();
    // Errors reach the reader through `responses`; one after it stopped reading is dropped.
    call.on("error", () => undefined);
    let ended = false;
    const finished = (): boolean => ended || signal.aborted || call.writableEnded || call.destroyed;
    call.write({ input: { $case: "open", value: open } });
    if (signal.aborted) call.cancel();
    return {
      responses: serverStream(call, signal),
      write: (input) => {
        if (!finished()) call.write({ input });
      },
      end: () => {
        if (finished()) return;
        ended = true;
        call.end();
      },
    };
  }

  close(): void {
    this.client.close();
  }
}
