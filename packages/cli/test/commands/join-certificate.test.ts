// Where shoal init and shoal join put the daemons' certificates, and how a failed join reads.
// Joining itself (the CA checked against the token, the role from the certificate) runs against
// real managers in test/e2e/init-join.test.ts.
import { ErrorCode, pki } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { adminClientDir, daemonCertDir, joinWithToken } from "../../src/commands/join-certificate.js";

describe("join certificates", () => {
  it("go into each daemon's data dir; the admin's client certificate is the founding manager's", () => {
    expect(daemonCertDir("/var/lib/shoal", "agent")).toBe("/var/lib/shoal/agent/certificates");
    expect(daemonCertDir("/var/lib/shoal", "manager")).toBe("/var/lib/shoal/manager/certificates");
    expect(adminClientDir("/var/lib/shoal")).toBe("/var/lib/shoal/manager/client");
  });

  it("a malformed token fails before any connection", async () => {
    await expect(joinWithToken(["127.0.0.1:1"], "not-a-token", 1000)).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
  });

  it("no manager to join through is said as such", async () => {
    const token = pki.newJoinToken("ab".repeat(32));
    await expect(joinWithToken(["127.0.0.1:1"], token, 1000)).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringContaining("could not join the cluster at 127.0.0.1:1"),
    });
  });
});
