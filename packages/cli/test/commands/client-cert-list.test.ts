// shoal cluster client-cert ls: issued certificates valid or expired, revoked ones marked, as a table.
import { Cluster } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { clientCertRows, clientCertTable, listClientCertificates } from "../../src/commands/client-cert-list.js";
import { fakeControl } from "./fake-control.js";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const at = (iso: string): Date => new Date(iso);

describe("client-cert ls", () => {
  it("lists issued certificates (valid or expired) and revoked ones, by name", async () => {
    const cluster = Cluster.fromPartial({
      rootCa: {
        clients: [
          { name: "ci", serialNumber: "0a", notAfter: at("2027-01-01T00:00:00Z") },
          { name: "admin", serialNumber: "0b", notAfter: at("2027-01-01T00:00:00Z") },
          { name: "old", serialNumber: "0c", notAfter: at("2026-01-01T00:00:00Z") },
        ],
        revoked: [{ name: "laptop", serialNumber: "0D", notAfter: at("2026-12-01T00:00:00Z") }],
      },
    });
    const { control } = fakeControl(() => ({ cluster }));
    const rows = await listClientCertificates(control, NOW);
    expect(rows.map((r) => [r.name, r.status])).toEqual([
      ["admin", "issued"],
      ["ci", "issued"],
      ["laptop", "revoked"],
      ["old", "expired"],
    ]);
    const table = clientCertTable(rows);
    expect(table.split("\n")[0]).toMatch(/^NAME\s+SERIAL\s+EXPIRES\s+STATUS$/);
    expect(table).toContain("2027-01-01T00:00:00.000Z   issued");
  });

  it("a serial both issued and revoked shows once, revoked", () => {
    const e = { name: "x", serialNumber: "AB", notAfter: at("2027-01-01T00:00:00Z") };
    expect(clientCertRows([e], [{ ...e, serialNumber: "ab" }], NOW).map((r) => r.status)).toEqual(["revoked"]);
  });
});
