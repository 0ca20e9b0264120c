// shoal cluster client-cert ls: the client certificates the cluster has issued and not yet seen
// expire, and the revoked ones, from the cluster's CA record (names, serials, expiry; no keys).
// "issued" is neither expired nor revoked; a certificate issued before a root rotation ended is
// listed so too, although it chains to the old root and no longer works.
import type { RevokedCertificate } from "@shoal/shared";
import type { Control } from "../client.js";

export interface ClientCertRow {
  readonly name: string;
  readonly serialNumber: string;
  readonly notAfter: string;
  readonly status: "issued" | "expired" | "revoked";
}

/** Issued and revoked client certificates, by name then expiry. */
export function clientCertRows(
  clients: readonly RevokedCertificate[],
  revoked: readonly RevokedCertificate[],
  now: number,
): ClientCertRow[] {
  const row = (e: RevokedCertificate, status: ClientCertRow["status"]): ClientCertRow => ({
    name: e.name,
    serialNumber: e.serialNumber,
    notAfter: e.notAfter?.toISOString() ?? "",
    status,
  });
  const revokedSerials = new Set(revoked.map((r) => r.serialNumber.toLowerCase()));
  const rows = [
    ...clients
      .filter((c) => !revokedSerials.has(c.serialNumber.toLowerCase()))
      .map((c) => row(c, (c.notAfter?.getTime() ?? 0) > now ? "issued" : "expired")),
    ...revoked.map((r) => row(r, "revoked")),
  ];
  return rows.sort((a, b) => a.name.localeCompare(b.name) || a.notAfter.localeCompare(b.notAfter));
}

/** The rows as a table: NAME, SERIAL, EXPIRES, STATUS. */
export function clientCertTable(rows: readonly ClientCertRow[]): string {
  const header = ["NAME", "SERIAL", "EXPIRES", "STATUS"];
  const cells = [header, ...rows.map((r) => [r.name, r.serialNumber, r.notAfter, r.status])];
  const widths = header.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => (i < c.length - 1 ? v.padEnd(widths[i]!) : v)).join("   ")).join("\n") + "\n";
}

export async function listClientCertificates(
  control: Pick<Control, "call">,
  now = Date.now(),
): Promise<ClientCertRow[]> {
  const { cluster } = await control.call("getCluster", { clusterId: "" });
  return clientCertRows(cluster?.rootCa?.clients ?? [], cluster?.rootCa?.revoked ?? [], now);
}
