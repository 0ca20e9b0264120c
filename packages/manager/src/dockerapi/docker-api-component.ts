// The Docker Engine API as a part of the manager (--docker-api): served over HTTP(S) on its own
// address, calling this manager's Control and Logs services over loopback with its certificate,
// and admitting the callers the auth policy's Docker API rule admits.
import type { Clock, Logger, TlsMaterial, pki } from "@shoal/shared";
import { authorizeRule } from "../auth/interceptor.js";
import { DOCKER_API_RULE } from "../auth/policy.js";
import type { Component } from "../lifecycle/component.js";
import type { MemoryStore } from "../state/store/index.js";
import { DockerApiServer } from "./docker-api-server.js";
import type { ManagerSettings } from "./manager-settings.js";

export interface DockerApiComponentOptions {
  /** HOST:PORT to serve on; off when undefined. */
  readonly listen: string | undefined;
  readonly store: MemoryStore;
  readonly credentials: { readonly material: TlsMaterial; readonly nodeId: string };
  /** Where this manager's gRPC server listens and what it advertises. */
  readonly listener: { readonly address: string; readonly advertise: string };
  readonly isRaftMember: (nodeId: string) => boolean;
  readonly logger: Logger;
  readonly clock: Clock;
  /** This manager's Raft and dispatcher settings (the swarm's Raft and Dispatcher in the API). */
  readonly settings?: ManagerSettings;
}

export class DockerApiComponent implements Component {
  readonly name = "docker-api";
  private server: DockerApiServer | undefined;

  constructor(private readonly options: DockerApiComponentOptions) {}

  /** The address served, once up ("" before). */
  get address(): string {
    return this.server?.address ?? "";
  }

  async run(): Promise<void> {
    const { listen, store, credentials, listener, isRaftMember, logger } = this.options;
    if (listen === undefined) return;
    this.server = new DockerApiServer({
      clock: this.options.clock,
      listen,
      managerAddr: loopbackAddress(listener.address),
      nodeId: credentials.nodeId,
      advertise: listener.advertise,
      material: credentials.material,
      refuse: (identity) => dockerApiRefusal(store, isRaftMember, identity),
      logger,
      settings: this.options.settings,
    });
    await this.server.start();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}

/** Why the Docker API refuses `identity`, by the auth policy's rule; undefined: admitted. */
export function dockerApiRefusal(
  store: MemoryStore,
  isRaftMember: (nodeId: string) => boolean,
  identity: pki.CertIdentity,
): string | undefined {
  const decision = store.view((tx) => {
    const cluster = tx.clusters.find()[0];
    return authorizeRule(DOCKER_API_RULE, "the Docker Engine API", identity, {
      clusterId: cluster?.id,
      rootCa: cluster?.rootCa,
      node: (id) => tx.nodes.get(id),
      isRaftMember,
    });
  });
  return decision.ok ? undefined : decision.message;
}

/** A listen address as a local client reaches it: a wildcard becomes the loopback address. */
export function loopbackAddress(address: string): string {
  return address.replace(/^0\.0\.0\.0:/, "127.0.0.1:").replace(/^\[::\]:/, "[::1]:");
}
