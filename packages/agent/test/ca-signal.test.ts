// The agent's renewals on its session's CA signal: on the flag, on a change of root, and once at
// start when the roots it trusts are not the current root alone.
import { pki } from "@shoal/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleDigests, RenewalTrigger } from "../src/ca-signal.js";

const NOW = Date.parse("2026-03-01T12:00:00Z");
let oldRoot: pki.CertificateAuthority;
let newRoot: pki.CertificateAuthority;

beforeAll(async () => {
  oldRoot = await pki.CertificateAuthority.create({ clusterId: "c1", now: NOW });
  newRoot = await pki.CertificateAuthority.create({ clusterId: "c1", now: NOW });
});

describe("RenewalTrigger", () => {
  it("reads the digests of a bundle", () => {
    expect(bundleDigests(`${oldRoot.certPem}\n${newRoot.certPem}`)).toEqual([oldRoot.digest, newRoot.digest].sort());
    expect(bundleDigests("")).toEqual([]);
  });

  it("a node trusting the current root alone renews only when told, or when the root changes", () => {
    const t = new RenewalTrigger();
    expect(t.shouldRenew({ rootCaDigest: oldRoot.digest, renewCertificate: false }, oldRoot.certPem)).toBe(false);
    expect(t.shouldRenew({ rootCaDigest: oldRoot.digest, renewCertificate: true }, oldRoot.certPem)).toBe(true);
    const both = `${oldRoot.certPem}\n${newRoot.certPem}`;
    expect(t.shouldRenew({ rootCaDigest: oldRoot.digest, renewCertificate: false }, both)).toBe(false);
    // The rotation finished: renew, which brings the new root alone.
    expect(t.shouldRenew({ rootCaDigest: newRoot.digest, renewCertificate: false }, both)).toBe(true);
    expect(t.shouldRenew({ rootCaDigest: newRoot.digest, renewCertificate: false }, newRoot.certPem)).toBe(false);
  });

  it("at start, a node still trusting the old root as well renews once", () => {
    const t = new RenewalTrigger();
    const both = `${oldRoot.certPem}\n${newRoot.certPem}`;
    expect(t.shouldRenew({ rootCaDigest: newRoot.digest, renewCertificate: false }, both)).toBe(true);
    expect(t.shouldRenew({ rootCaDigest: newRoot.digest, renewCertificate: false }, both)).toBe(false);
  });

  it("an empty digest (a manager without a CA) asks for nothing", () => {
    const t = new RenewalTrigger();
    expect(t.shouldRenew({ rootCaDigest: "", renewCertificate: true }, oldRoot.certPem)).toBe(false);
  });
});
