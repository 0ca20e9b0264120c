// Who this manager is on the wire: its certificate (made when founding, asked for with the token
// when joining, read from the data dir when restarting; see manager-certificate.ts), the node id
// and cluster id it names, and what it founded. A joining manager's node id is the one the CA
// chose: the identity file learns it here.
import { newId, type Clock, type Logger, type TlsMaterial } from "@shoal/shared";
import { saveIdentity, type ManagerIdentity } from "../identity.js";
import type { Component } from "../lifecycle/component.js";
import { certificateHosts } from "./certificate-hosts.js";
import type { ClusterCa } from "./cluster-init.js";
import { managerCertificate, type ManagerCertificate } from "./manager-certificate.js";

export interface ManagerCredentialsOptions {
  readonly dataDir: string;
  /** The identity as loaded, and whether the data dir holds a cluster member. */
  readonly identity: { readonly loaded: ManagerIdentity; readonly member: boolean };
  /** A manager of the cluster to join, and the manager token (used when not a member). */
  readonly join?: string | undefined;
  readonly joinToken?: string | undefined;
  /** Where the manager is reached, for the names in a founding manager's certificate. */
  readonly listen: string;
  readonly advertise?: string | undefined;
  readonly dockerApi?: string | undefined;
  readonly dashboard?: string | undefined;
  readonly certExpiryMs?: number | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
}

export class ManagerCredentials implements Component {
  readonly name = "certificate";
  private cert: ManagerCertificate | undefined;

  constructor(private readonly options: ManagerCredentialsOptions) {}

  /** The certificate, once run; undefined before. */
  get current(): TlsMaterial | undefined {
    return this.cert?.material;
  }

  get material(): TlsMaterial {
    return this.made().material;
  }

  get nodeId(): string {
    return this.made().nodeId;
  }

  get clusterId(): string {
    return this.made().clusterId;
  }

  /** The CA and tokens this manager made when it founded the cluster now. */
  get founded(): ClusterCa | undefined {
    return this.made().founded;
  }

  async run(signal: AbortSignal): Promise<void> {
    const o = this.options;
    const { loaded, member } = o.identity;
    const cert = await managerCertificate({
      clock: o.clock,
      dataDir: o.dataDir,
      nodeId: loaded.nodeId,
      clusterId: loaded.clusterId ?? newId(),
      member,
      ...(!member && o.join !== undefined ? { join: { addr: o.join, token: o.joinToken ?? "" } } : {}),
      hosts: certificateHosts([o.advertise ?? o.listen, o.dockerApi, o.dashboard]),
      ...(o.certExpiryMs !== undefined ? { nodeCertLifetimeMs: o.certExpiryMs } : {}),
      logger: o.logger,
      signal,
    });
    if (cert.nodeId !== loaded.nodeId || cert.clusterId !== loaded.clusterId) {
      await saveIdentity(o.dataDir, { ...loaded, nodeId: cert.nodeId, clusterId: cert.clusterId });
    }
    this.cert = cert;
  }

  /** Nothing to release. */
  stop(): void {}

  private made(): ManagerCertificate {
    if (!this.cert) throw new Error("the manager's certificate is not made yet");
    return this.cert;
  }
}
