// The Control API is served from the start, so that a client reaching a manager that is still
// starting hears why: until the Raft node runs every call answers UNAVAILABLE ("not available on
// this manager yet"); then the Control API is made over the node and answers, UNIMPLEMENTED for
// what it does not implement; once stopping, UNAVAILABLE again. Requests the request guard refused
// (too large, not decodable) are answered with its status first.
import * as grpc from "@grpc/grpc-js";
import { ControlService, type Clock, type ControlServer, type TlsMaterial } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import type { ServiceRegistry } from "../server/service-registry.js";
import type { RaftNode } from "../state/raft/raft-node.js";
import type { MemoryStore } from "../state/store/index.js";
import { ControlApi } from "./control-server.js";
import type { ImagePullSource } from "./images.js";
import { MAX_CONTROL_REQUEST_BYTES, guardRequests, refusedRequest } from "./request-guard.js";

/** The Control API behind the gate (ControlApi). */
export interface ControlImpl {
  handlers(): Partial<ControlServer>;
  close(): void;
}

export interface ControlGateOptions {
  readonly server: ServiceRegistry;
  readonly raft: { readonly node: RaftNode | undefined };
  readonly store: MemoryStore;
  readonly credentials: { readonly material: TlsMaterial; readonly nodeId: string };
  /**
   * Makes the Control API over the running node; called once, at the first call after it runs.
   * Default: ControlApi (control-server.ts).
   */
  readonly open?: (node: RaftNode) => ControlImpl;
  readonly clock: Clock;
  /** Pulls on every ready node (the dispatcher's), for PullImage. */
  readonly imagePulls?: ImagePullSource | undefined;
  /** This manager's dashboard (https://HOST:PORT), if it serves one. */
  readonly dashboardUrl?: (() => string | undefined) | undefined;
}

type UnaryHandler = grpc.handleUnaryCall<unknown, unknown>;
type StreamHandler = grpc.handleServerStreamingCall<unknown, unknown>;

export class ControlGate implements Component {
  readonly name = "control";
  private api: ControlImpl | undefined;
  private impl: grpc.UntypedServiceImplementation | undefined;
  private stopped = false;

  constructor(private readonly options: ControlGateOptions) {}

  run(): Promise<void> {
    this.options.server.addService(guardRequests(ControlService, MAX_CONTROL_REQUEST_BYTES), this.handlers());
    return Promise.resolve();
  }

  /** A handler for every Control method (unary or server stream), answering through the gate. */
  handlers(): grpc.UntypedServiceImplementation {
    const delegating: grpc.UntypedServiceImplementation = {};
    for (const [name, definition] of Object.entries(ControlService)) {
      const unary: UnaryHandler = (call, callback) => {
        const refused = refusedRequest(call.request);
        if (refused) return callback(refused);
        const impl = this.current();
        const method = impl?.[name] as UnaryHandler | undefined;
        if (method) return method(call, callback);
        callback(this.closed(name, impl !== undefined));
      };
      const stream: StreamHandler = (call) => {
        const refused = refusedRequest(call.request);
        if (refused) return void call.emit("error", refused);
        const impl = this.current();
        const method = impl?.[name] as StreamHandler | undefined;
        if (method) return method(call);
        call.emit("error", this.closed(name, impl !== undefined));
      };
      delegating[name] = (definition.responseStream ? stream : unary) as grpc.UntypedHandleCall;
    }
    return delegating;
  }

  /** The answer of a method the Control API does not serve now: not yet, no longer, or never. */
  private closed(name: string, open: boolean): Partial<grpc.ServiceError> {
    return {
      code: open ? grpc.status.UNIMPLEMENTED : grpc.status.UNAVAILABLE,
      details: this.stopped ? `${name}: this manager is stopping` : `${name}: not available on this manager yet`,
    };
  }

  /** Closes the Control API; calls from now on answer UNAVAILABLE. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.impl = undefined;
    this.api?.close();
  }

  private controlApi(node: RaftNode): ControlApi {
    const { store, credentials } = this.options;
    return new ControlApi({
      clock: this.options.clock,
      nodeId: credentials.nodeId,
      store,
      raft: node,
      material: credentials.material,
      clusterId: () => store.view((tx) => tx.clusters.find()[0]?.id ?? ""),
      imagePulls: this.options.imagePulls,
      dashboardUrl: this.options.dashboardUrl,
    });
  }

  private current(): grpc.UntypedServiceImplementation | undefined {
    if (this.stopped) return undefined;
    if (!this.impl) {
      const node = this.options.raft.node;
      if (!node) return undefined;
      this.api = (this.options.open ?? ((n) => this.controlApi(n)))(node);
      this.impl = this.api.handlers() as grpc.UntypedServiceImplementation;
    }
    return this.impl;
  }
}
