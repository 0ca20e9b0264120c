// /containers/{id}/json, /top, /stats, /logs, /wait and /resize for task containers. Inspect, top
// and stats are container calls (the node's agent asks its own daemon and the answer is Docker's
// JSON as its daemon gave it); logs go through the Logs broker for the container's task, found as
// every call finds its container (an inspect's `started` names the task).
import { ContainerOp, InvalidArgumentError, type TerminalSize } from "@shoal/shared";
import type { TLSSocket } from "node:tls";
import type { ContainerCallSession } from "../containers/container-calls-client.js";
import { containerTask } from "./call-stream.js";
import { adminCaller, asNoSuchContainer, callJson, containerCalls, eachJson, openMessage } from "./container-call.js";
import { listContainersHandler } from "./container-list.js";
import type { DockerApiContext } from "./context.js";
import { logOptions, stream } from "./logs.js";
import type { Handler } from "./router.js";

/** A terminal size from `h` and `w` query parameters (Docker's resize). */
export function sizeParams(query: URLSearchParams): TerminalSize {
  const num = (name: string): number => {
    const raw = query.get(name) ?? "";
    if (!/^\d{1,5}$/.test(raw)) throw new InvalidArgumentError(`"${raw}" is not a terminal size`, { field: name });
    return Number(raw);
  };
  return { height: num("h"), width: num("w") };
}

/** The open attach calls of this manager, by the container reference they were opened with. */
export class AttachSessions {
  private readonly byRef = new Map<string, Set<ContainerCallSession>>();

  add(refs: readonly string[], session: ContainerCallSession): () => void {
    for (const ref of refs) {
      const set = this.byRef.get(ref) ?? new Set();
      set.add(session);
      this.byRef.set(ref, set);
    }
    return () => {
      for (const ref of refs) {
        const set = this.byRef.get(ref);
        set?.delete(session);
        if (set?.size === 0) this.byRef.delete(ref);
      }
    };
  }

  /** Resizes the TTY of every attach to `ref`; false when there is none. */
  resize(ref: string, size: TerminalSize): boolean {
    const set = this.byRef.get(ref);
    for (const s of set ?? []) s.write({ $case: "resize", value: size });
    return (set?.size ?? 0) > 0;
  }
}

export function containerHandlers(ctx: DockerApiContext, attaches: AttachSessions): Record<string, Handler> {
  return {
    list: listContainersHandler(ctx),
    inspect: async (req) => {
      const json = await callJson(ctx, openMessage(req.params["id"]!, ContainerOp.INSPECT), req.signal);
      return { status: 200, json };
    },
    top: async (req) => {
      const top = { psArgs: req.query.get("ps_args") ?? "" };
      const json = await callJson(ctx, openMessage(req.params["id"]!, ContainerOp.TOP, { top }), req.signal);
      return { status: 200, json };
    },
    stats: async (req) => {
      const raw = req.query.get("stream");
      const streaming = raw === null || !["0", "false", "False"].includes(raw);
      const oneShot = ["1", "true", "True"].includes(req.query.get("one-shot") ?? "");
      const open = openMessage(req.params["id"]!, ContainerOp.STATS, { stats: { stream: streaming, oneShot } });
      if (!streaming) return { status: 200, json: await callJson(ctx, open, req.signal) };
      // A sample a line, as Docker streams them; the headers go with the first one, so that a
      // failure before it is still a status and a message.
      await eachJson(ctx, open, req.signal, async (json) => {
        if (!req.res.headersSent) req.res.writeHead(200, { "Content-Type": "application/json" });
        if (!req.res.write(Buffer.concat([json, Buffer.from("\n")]))) {
          await new Promise((resolve) => req.res.once("drain", resolve));
        }
      }).catch((err: unknown) => {
        if (!req.res.headersSent) throw err;
      });
      req.res.end();
      return "streamed";
    },
    logs: async (req) => {
      const options = logOptions(req);
      const { taskId, tty } = await containerTask(ctx, req.params["id"]!, req.signal);
      return stream(ctx, req, { selector: { serviceIds: [], taskIds: [taskId] }, options }, tty);
    },
    resize: (req) => {
      attaches.resize(req.params["id"]!, sizeParams(req.query));
      return { status: 200 };
    },
    // `docker attach` waits for the container's exit beside its attach: an attach call without
    // streams, which ends with the exit.
    wait: async (req) => {
      const ref = req.params["id"]!;
      const caller = adminCaller(req.raw.socket as TLSSocket);
      const attach = { stdin: false, stdout: false, stderr: false, logs: false, stream: true, detachKeys: "" };
      const session = containerCalls(ctx).open(openMessage(ref, ContainerOp.ATTACH, { attach, caller }), req.signal);
      let code: number | undefined;
      try {
        for await (const res of session.responses) {
          if (res.output?.$case === "started") {
            req.res.writeHead(200, { "Content-Type": "application/json" });
            req.res.flushHeaders();
          } else if (res.output?.$case === "exit") code = res.output.value.exitCode;
        }
      } catch (err: unknown) {
        if (!req.res.headersSent) throw asNoSuchContainer(err, ref);
      }
      if (!req.res.headersSent) req.res.writeHead(200, { "Content-Type": "application/json" });
      const error = code === undefined ? { Message: "the container's node stopped answering" } : null;
      req.res.end(JSON.stringify({ StatusCode: code ?? -1, Error: error }));
      return "streamed" as const;
    },
  };
}
