// What a dispatcher session tells its node about the cluster's CA (SessionResponse.root_ca_digest
// and renew_certificate), and a watch that says when it, or the node's role, changes (the session
// sends the node again: its agent starts or stops the manager beside it).
//
// - root_ca_digest is the digest of the current root: the old one while a rotation runs, the new
//   one once it has finished. A node that sees it change renews, which also replaces the roots it
//   trusts with the current set (the new root alone after a rotation).
// - renew_certificate is set while a rotation runs and the node's last certificate is not from the
//   new key (Node.certificate, which the CA writes at each issue); it clears when the node renews.
import type { Node, RootCA } from "@shoal/shared";
import { currentDigest } from "../ca/root-ca.js";
import { isRotating, needsRenewal } from "../ca/root-rotation.js";
import type { MemoryStore } from "../state/store/index.js";

export interface CaSignal {
  readonly rootCaDigest: string;
  readonly renewCertificate: boolean;
}

/**
 * The signal for node `nodeId` given the cluster's RootCA (none yet: empty, no renewal). A manager
 * whose node the leader has not made yet (`node` undefined) is renewed once the rotation records it.
 */
export function caSignal(rootCa: RootCA | undefined, node: Node | undefined, nodeId = node?.id ?? ""): CaSignal {
  if (!rootCa || rootCa.caCert.length === 0) return { rootCaDigest: "", renewCertificate: false };
  const renewCertificate = node
    ? needsRenewal(rootCa, node)
    : isRotating(rootCa) && !(rootCa.rootRotation?.renewedManagers ?? []).includes(nodeId);
  return { rootCaDigest: currentDigest(rootCa), renewCertificate };
}

export function sameSignal(a: CaSignal, b: CaSignal): boolean {
  return a.rootCaDigest === b.rootCaDigest && a.renewCertificate === b.renewCertificate;
}

/**
 * Calls `changed` with the node's signal each time it differs from `initial`, the last one sent:
 * after each commit that updates the cluster or this node. Returns the stop function (idempotent).
 */
export function watchCaSignal(
  store: MemoryStore,
  nodeId: string,
  initial: CaSignal,
  changed: (signal: CaSignal, node: Node | undefined) => void,
): () => void {
  const subscription = store.watch({
    tables: ["clusters", "nodes"],
    kinds: ["create", "update"],
    commits: "matched",
    capacity: 1_000,
    peek: (table, object) => table === "clusters" || (object as Node).id === nodeId,
  });
  let last = initial;
  // The node's role too: an agent sees its promotion or demotion on the session (it starts or
  // stops the manager beside it).
  let lastRole = roleKey(store.view((tx) => tx.nodes.get(nodeId)));
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    subscription.close();
  };
  void (async () => {
    try {
      for await (const ev of subscription) {
        // Commit events only: one look per entry. A resync (a snapshot installed) looks as well.
        if (ev.kind !== "commit" && ev.kind !== "resync") continue;
        const { rootCa, node } = store.view((tx) => ({
          rootCa: tx.clusters.find()[0]?.rootCa,
          node: tx.nodes.get(nodeId),
        }));
        const next = caSignal(rootCa, node, nodeId);
        const role = roleKey(node);
        if (sameSignal(next, last) && role === lastRole) continue;
        last = next;
        lastRole = role;
        changed(next, node);
      }
    } catch {
      // Overflow (a session that does not read): the node still renews at its usual time, and
      // learns the current signal from its next session.
    } finally {
      stop();
    }
  })();
  return stop;
}

/** What of a node's role its agent follows: desired role, role, membership of the Raft group. */
function roleKey(node: Node | undefined): string {
  return `${node?.spec?.desiredRole ?? ""}/${node?.role ?? ""}/${node?.managerStatus ? "member" : ""}`;
}
