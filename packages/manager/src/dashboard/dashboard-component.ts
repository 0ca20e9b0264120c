// The web dashboard as a part of the manager (--dashboard HOST:PORT): served over HTTPS with the
// manager's certificate, calling this manager's Control, Logs, Events and Containers services over
// loopback with it, and reading this manager's replica of the store.
import type { Clock, Logger, TlsMaterial } from "@shoal/shared";
import { loopbackAddress } from "../dockerapi/docker-api-component.js";
import type { Component } from "../lifecycle/component.js";
import type { MemoryStore } from "../state/store/index.js";
import { DashboardServer } from "./dashboard-server.js";

export interface DashboardComponentOptions {
  /** HOST:PORT to serve on; off when undefined. */
  readonly listen: string | undefined;
  readonly store: MemoryStore;
  readonly credentials: { readonly material: TlsMaterial; readonly nodeId: string };
  /** Where this manager's gRPC server listens and what it advertises. */
  readonly listener: { readonly address: string; readonly advertise: string };
  readonly isLeader: () => boolean;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class DashboardComponent implements Component {
  readonly name = "dashboard";
  private server: DashboardServer | undefined;

  constructor(private readonly options: DashboardComponentOptions) {}

  /** The address served, once up ("" before, or when off). */
  get address(): string {
    return this.server?.address ?? "";
  }

  /** https://HOST:PORT, once up; undefined when off. */
  get url(): string | undefined {
    return this.server?.url || undefined;
  }

  async run(): Promise<void> {
    const { listen, store, credentials, listener, isLeader, clock, logger } = this.options;
    if (listen === undefined) return;
    const advertise = listener.advertise;
    this.server = new DashboardServer({
      listen,
      advertiseHost: advertise.slice(0, advertise.lastIndexOf(":")),
      managerAddr: loopbackAddress(listener.address),
      material: credentials.material,
      nodeId: credentials.nodeId,
      store,
      isLeader,
      clock,
      logger,
    });
    await this.server.start();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}
