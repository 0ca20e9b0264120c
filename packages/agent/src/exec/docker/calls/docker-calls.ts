// Serves one container call on this node's Docker daemon: the container must be a Shoal task
// container of this node running the call's task (any other is NOT_FOUND and left alone); the
// answer starts with `started`, then the operation's output, and ends with `exit` or `error`.
import {
  ContainerOp,
  type AttachConfig,
  type ContainerCallStarted,
  type ListenContainerCallsResponse,
  type Logger,
} from "@shoal/shared";
import type Docker from "dockerode";
import type { CallChannel, ContainerCallServer } from "../../../containers/call-channel.js";
import { callContainerName, isContainerId, notFound, taskOfContainer } from "../../../containers/call-logic.js";
import type { Executor } from "../../executor.js";
import { DockerExecutor } from "../docker-executor.js";
import { dockerDocument, dockerGet, dockerLines } from "./docker-json.js";
import { serveAttach, serveExec, type StreamCallOptions } from "./exec-call.js";

/** Serves container calls on the Docker daemon of a DockerExecutor. */
export class DockerContainerCalls implements ContainerCallServer {
  constructor(
    private readonly docker: Docker,
    private readonly logger: Logger,
  ) {}

  /** The container-call server of `executor` when it drives a Docker daemon (a fake one has none). */
  static of(executor: Executor, logger: Logger): DockerContainerCalls | undefined {
    return executor instanceof DockerExecutor ? new DockerContainerCalls(executor.docker, logger) : undefined;
  }

  async serve(call: ListenContainerCallsResponse, channel: CallChannel, nodeId: string): Promise<void> {
    const { docker, logger } = this;
    const open = call.open!;
    const name = callContainerName(call);
    if (!isContainerId(call.containerId)) return channel.fail(notFound(name));
    const signal = channel.signal;
    const path = `/containers/${call.containerId}`;
    const inspect = await dockerDocument(docker, `${path}/json`, {}, signal);
    const info = JSON.parse(inspect.toString("utf8")) as { Id?: string; Config?: { Tty?: boolean } };
    const task = taskOfContainer(info, call.taskId, nodeId);
    if (task === undefined) return channel.fail(notFound(name));
    const containerId = info.Id ?? call.containerId;
    const started: ContainerCallStarted = { ...task, nodeId, containerId, execId: "" };
    const streamCall: StreamCallOptions = { docker, channel, containerId, started, size: open.size, logger };
    switch (open.op) {
      case ContainerOp.INSPECT:
        await channel.send({ $case: "started", value: started });
        await channel.send({ $case: "json", value: inspect });
        return;
      case ContainerOp.TOP: {
        await channel.send({ $case: "started", value: started });
        const query = { ps_args: open.top?.psArgs || "-ef" };
        await channel.send({ $case: "json", value: await dockerDocument(docker, `${path}/top`, query, signal) });
        return;
      }
      case ContainerOp.STATS:
        await channel.send({ $case: "started", value: started });
        return stats(docker, path, open.stats?.stream ?? false, open.stats?.oneShot ?? false, channel);
      case ContainerOp.EXEC:
        return serveExec(streamCall, open.exec!);
      case ContainerOp.ATTACH: {
        const attach = open.attach ?? DEFAULT_ATTACH;
        return serveAttach(streamCall, attach, info.Config?.Tty === true);
      }
    }
  }
}

const DEFAULT_ATTACH: AttachConfig = {
  stdin: false,
  stdout: true,
  stderr: true,
  logs: false,
  stream: true,
  detachKeys: "",
};

/** Docker's stats samples, one `json` each: one sample, or until the call is cancelled. */
async function stats(
  docker: Docker,
  path: string,
  stream: boolean,
  oneShot: boolean,
  channel: CallChannel,
): Promise<void> {
  const query = { stream, ...(!stream && oneShot ? { "one-shot": true } : {}) };
  const res = await dockerGet(docker, `${path}/stats`, query, channel.signal);
  const close = (): void => void res.destroy();
  channel.signal.addEventListener("abort", close, { once: true });
  try {
    for await (const sample of dockerLines(res)) {
      await channel.send({ $case: "json", value: sample });
      if (!stream) break;
    }
  } catch (err: unknown) {
    if (!channel.signal.aborted) throw err;
  } finally {
    channel.signal.removeEventListener("abort", close);
    res.destroy();
  }
}
