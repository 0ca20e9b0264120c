// The X.509 library, loaded once, and the algorithms the cluster PKI uses.
//
// Why @peculiar/x509: Node's crypto parses and verifies certificates but cannot create or sign
// them. @peculiar/x509 (MIT, PeculiarVentures, maintained since 2020, typed, no native code) builds
// certificates and PKCS#10 requests on WebCrypto, which Node ships, so keys never leave Node's
// crypto; it does ECDSA P-256 with SHA-256, the algorithm SwarmKit's CA uses. The alternatives:
// pkijs (same authors, lower level, far more code per certificate) and node-forge (RSA only for
// certificates, its own JavaScript crypto). It needs a Reflect metadata polyfill for its
// dependency-injection container (tsyringe), so this module imports reflect-metadata first; every
// pki file imports the library from here, never directly.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

export { x509 };

/** ECDSA over P-256 with SHA-256: key generation, import and signing all use this. */
export const EC_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** The key algorithm without the hash, as WebCrypto's importKey wants it. */
export const EC_KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;

/** Splits PEM text into its DER blocks of the given tag (e.g. "CERTIFICATE"), in order. */
export function pemBlocks(pem: string, tag: string): Uint8Array[] {
  return x509.PemConverter.decodeWithHeaders(pem)
    .filter((block) => block.type === tag)
    .map((block) => new Uint8Array(block.rawData));
}
