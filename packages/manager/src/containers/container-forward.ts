// A follower's part of a container call: the whole stream goes to the leader, with this manager's
// certificate and the original caller named (caller.ts), the `open` as this manager accepted it
// (its caller set); messages pass through both ways, and either side ending or cancelling ends
// the other. A forwarded call is not forwarded again (the leader it reaches must lead).
import {
  ContainersClient,
  ErrorCode,
  MANAGER_CHANNEL_OPTIONS,
  ShoalError,
  channelCredentials,
  fromServiceError,
  type ContainerCallOpen,
  type ContainerCallRequest,
  type ContainerCallResponse,
  type TlsMaterial,
} from "@shoal/shared";
import { callerOf, forwardedMetadata, isForwarded } from "../auth/caller.js";
import { end, type ClientStream } from "./brokered-call.js";

export class ContainerForward {
  private readonly clients = new Map<string, ContainersClient>();

  constructor(
    private readonly material: TlsMaterial,
    private readonly leaderAddr: () => string | undefined,
  ) {}

  forward(call: ClientStream, open: ContainerCallOpen): void {
    const leader = this.leaderAddr();
    if (!leader || isForwarded(call.metadata)) {
      end(call, new ShoalError(ErrorCode.NotLeader, "no leader to serve container calls"));
      return;
    }
    let client = this.clients.get(leader);
    if (!client) {
      client = new ContainersClient(leader, channelCredentials(this.material), MANAGER_CHANNEL_OPTIONS);
      this.clients.set(leader, client);
    }
    const upstream = client.containerCall(forwardedMetadata(callerOf(call.metadata)));
    upstream.write({ input: { $case: "open", value: open } });
    call.on("data", (req: ContainerCallRequest) => {
      if (!upstream.write(req)) {
        call.pause();
        upstream.once("drain", () => call.resume());
      }
    });
    call.once("end", () => upstream.end());
    call.once("cancelled", () => upstream.cancel());
    call.resume();
    upstream.on("data", (res: ContainerCallResponse) => {
      if (!call.write(res)) {
        upstream.pause();
        call.once("drain", () => upstream.resume());
      }
    });
    upstream.once("end", () => end(call, undefined));
    upstream.once("error", (err) => end(call, fromServiceError(err)));
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
