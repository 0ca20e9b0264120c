// Keeps this manager's certificate current while it runs: the renewer (asks the leader first, then
// the other managers) and the ManagerCaFollower (renews at once when a root rotation asks).
import { nodeRenewer, type Clock, type Logger, type RaftMember, type TlsMaterial } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import type { MemoryStore } from "../state/store/index.js";
import { ManagerCaFollower } from "./manager-ca-follower.js";
import { nodeCertDir } from "./manager-certificate.js";

export interface CertificateRenewalOptions {
  readonly dataDir: string;
  readonly store: MemoryStore;
  readonly credentials: { readonly material: TlsMaterial; readonly nodeId: string };
  readonly raft: { leaderAddr(): string | undefined; members(): readonly RaftMember[] };
  readonly logger: Logger;
  readonly clock: Clock;
}

export class CertificateRenewal implements Component {
  readonly name = "certificate-renewal";
  private running: { stop(): void } | undefined;

  constructor(private readonly options: CertificateRenewalOptions) {}

  run(): Promise<void> {
    const { dataDir, store, credentials, raft, logger } = this.options;
    const material = credentials.material;
    const renewal = nodeRenewer(
      material,
      nodeCertDir(dataDir),
      () => renewalAddresses(raft.leaderAddr(), raft.members()),
      logger,
    );
    const renewing = new AbortController();
    void renewal.renewer.run(renewing.signal);
    const follower = new ManagerCaFollower({
      clock: this.options.clock,
      store,
      nodeId: credentials.nodeId,
      dataDir,
      renewNow: () => renewal.renewer.renewNow(),
      trustedRootsPem: () => material.files.caPem,
      logger,
    });
    follower.start();
    this.running = {
      stop: () => {
        follower.stop();
        renewing.abort();
        renewal.renewer.stop();
        renewal.close();
      },
    };
    return Promise.resolve();
  }

  stop(): void {
    this.running?.stop();
    this.running = undefined;
  }
}

/** The managers to ask for a certificate: the leader (it signs) first, then the others. */
export function renewalAddresses(leader: string | undefined, members: readonly RaftMember[]): string[] {
  return [...(leader ? [leader] : []), ...members.map((m) => m.addr).filter((a) => a !== leader)];
}
