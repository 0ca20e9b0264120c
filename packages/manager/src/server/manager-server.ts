// The manager's gRPC server: every call passes the auth interceptor (certificate, cluster, policy
// table, store). Components register their services before it binds (ServerListener). It is the
// first component in the manager's list, so that it shuts down last: peers keep their Raft streams
// to it open, so calls in flight get a short grace, then are cut.
import * as grpc from "@grpc/grpc-js";
import {
  ErrorCode,
  ShoalError,
  serverCredentials,
  systemClock,
  type Clock,
  type Logger,
  type TlsMaterial,
} from "@shoal/shared";
import { authInterceptor } from "../auth/interceptor.js";
import type { Component } from "../lifecycle/component.js";
import { GRPC_MESSAGE_LIMITS } from "../state/raft/transport.js";
import type { MemoryStore } from "../state/store/index.js";
import type { ServiceRegistry } from "./service-registry.js";

/** How long calls in flight may finish once the server shuts down. */
export const SHUTDOWN_GRACE_MS = 500;

export interface ManagerServerOptions {
  readonly store: MemoryStore;
  /** Whether a manager's node id is in the Raft group now. */
  readonly isRaftMember: (nodeId: string) => boolean;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly graceMs?: number;
}

export class ManagerServer implements Component, ServiceRegistry {
  readonly name = "grpc-server";
  private readonly server: grpc.Server;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ManagerServerOptions) {
    this.server = new grpc.Server({
      ...GRPC_MESSAGE_LIMITS,
      interceptors: [
        authInterceptor({
          store: options.store,
          rootCaOf: (cluster) => cluster.rootCa,
          isRaftMember: options.isRaftMember,
          logger: options.logger,
        }),
      ],
    });
  }

  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.server.addService(service, implementation);
  }

  /** Listens on `listen` (port 0 picks one) with this manager's certificate; the bound address. */
  async bind(listen: string, material: TlsMaterial): Promise<string> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(listen, serverCredentials(material), (err, bound) =>
        err
          ? reject(new ShoalError(ErrorCode.Unavailable, `cannot listen on ${listen}: ${err.message}`))
          : resolve(bound),
      ),
    );
    return `${listen.slice(0, listen.lastIndexOf(":"))}:${port}`;
  }

  /** Nothing to start: it serves once bound. */
  run(): Promise<void> {
    return Promise.resolve();
  }

  /** Shuts down: calls in flight get the grace period, then are cut. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      const clock = this.options.clock ?? systemClock;
      const force = clock.setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, this.options.graceMs ?? SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        force.cancel();
        resolve();
      });
    });
    return this.stopping;
  }
}
