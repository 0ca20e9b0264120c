// Docker's TLSInfo: checked against what a Docker 20.10 swarm manager answered for its own root
// (a recorded `docker info`), and through a root rotation.
import { RootCA, pki } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { newRootCa } from "../../src/ca/root-ca.js";
import { startRotation } from "../../src/ca/root-rotation.js";
import { nodeTlsInfo, swarmTlsInfo } from "../../src/dockerapi/tls-info.js";

/** Docker 20.10's swarm root and the TLSInfo it showed for it. */
const DOCKER_ROOT = [
  "-----BEGIN CERTIFICATE-----",
  "MIIBajCCARCgAwIBAgIUYjkeHem2FgmLZ/KYJ8NsdDnC3uUwCgYIKoZIzj0EAwIw",
  "EzERMA8GA1UEAxMIc3dhcm0tY2EwHhcNMjYxMTI5MDgyNzAwWhcNNDYxMTI0MDgy",
  "NzAwWjATMREwDwYDVQQDEwhzd2FybS1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH",
  "A0IABLKV4q6EovBOsyuHI35pAwjRG7bIJMh51kgcFfmpwu/v3Cwj1sGD7N3F+zju",
  "1E9VNu3FcJaUEjOOs3fPZYtXRIujQjBAMA4GA1UdDwEB/wQEAwIBBjAPBgNVHRMB",
  "Af8EBTADAQH/MB0GA1UdDgQWBBROYAFzj35YYaxhSXEqUImFJvlh8DAKBggqhkjO",
  "PQQDAgNIADBFAiEAq5zA+PNysPnYuzh7sPrddS3SUc0KKSKxcPGYn3hJXAYCIHY0",
  "xirGPB6M3wSpKABC8lBRH7vn4YXZ1Q6+9HODPBPC",
  "-----END CERTIFICATE-----",
  "",
].join("\n");
const DOCKER_TLS_INFO = {
  TrustRoot: DOCKER_ROOT,
  CertIssuerSubject: "MBMxETAPBgNVBAMTCHN3YXJtLWNh",
  CertIssuerPublicKey:
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEspXiroSi8E6zK4cjfmkDCNEbtsgkyHnWSBwV+anC7+/cLCPWwYPs3cX7OO7UT1U27cVwlpQSM46zd89li1dEiw==",
};

const NOW = Date.now();
const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

describe("swarmTlsInfo", () => {
  it("gives the root, its subject and its public key as Docker does", () => {
    expect(swarmTlsInfo(RootCA.fromPartial({ caCert: Buffer.from(DOCKER_ROOT) }))).toEqual(DOCKER_TLS_INFO);
  });

  it("is empty while the cluster has no CA", () => {
    expect(swarmTlsInfo(undefined)).toEqual({});
    expect(swarmTlsInfo(RootCA.fromPartial({}))).toEqual({});
  });

  it("names the new root as the issuer during a rotation, and still trusts the current one", async () => {
    const { rootCa } = await newRootCa({ clusterId: "c1", now: NOW });
    const rotating = await startRotation(rootCa, "c1", NOW);
    const info = swarmTlsInfo(rotating);
    const fresh = swarmTlsInfo(RootCA.fromPartial({ caCert: rotating.rootRotation!.caCert }));
    expect(info.TrustRoot).toBe(text(rootCa.caCert));
    expect(info.CertIssuerPublicKey).toBe(fresh.CertIssuerPublicKey);
    expect(info.CertIssuerPublicKey).not.toBe(swarmTlsInfo(rootCa).CertIssuerPublicKey);
  });
});

describe("nodeTlsInfo", () => {
  it("names the root that signed the node's certificate, by its digest", async () => {
    const { rootCa } = await newRootCa({ clusterId: "c1", now: NOW });
    const rotating = await startRotation(rootCa, "c1", NOW);
    const newDigest = pki.caDigest(text(rotating.rootRotation!.caCert));
    const current = swarmTlsInfo(rootCa);
    expect(nodeTlsInfo(rotating, rootCa.caCertDigest)).toEqual(current);
    expect(nodeTlsInfo(rotating, undefined)).toEqual(current);
    expect(nodeTlsInfo(rotating, newDigest)).toEqual(swarmTlsInfo(rotating));
    expect(nodeTlsInfo(rootCa, newDigest)).toEqual(current);
  });
});
