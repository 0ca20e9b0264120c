// The cluster's certificate authority: the root (or, during a rotation, the new root and its
// cross-signed copy) and its key, which signs node certificates. Managers hold it, loaded from the
// replicated store, so that whichever is leader can sign.
import { isIP } from "node:net";
import { caDigest } from "./digest.js";
import { CertificateError } from "./errors.js";
import { ROLE_OU, subjectName, type CertRole, type CertSubject } from "./identity.js";
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, sameKey, type CryptoKeyPair } from "./keys.js";
import { readCsr } from "./csr.js";
import {
  DEFAULT_NODE_CERT_LIFETIME_MS,
  DEFAULT_ROOT_CA_LIFETIME_MS,
  MIN_NODE_CERT_LIFETIME_MS,
  newSerialNumber,
  validityFrom,
} from "./lifetime.js";
import { EC_ALGORITHM, pemBlocks, x509 } from "./x509.js";
import { newId } from "../ids.js";

/** The CN prefix of root certificates (SwarmKit's is "swarm-ca"); each root adds its own id. */
export const ROOT_CN_PREFIX = "swarm-ca";

export interface NewRootOptions {
  readonly clusterId: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
  readonly lifetimeMs?: number;
}

export interface LoadOptions {
  /** The CA certificate whose key signs: the root, or during a rotation the new root. */
  readonly certPem: string;
  readonly keyPem: string;
  /**
   * Certificates sent after every issued one: during a rotation, the new root cross-signed by the
   * old, so that nodes that trust only the old root still accept the new certificates.
   */
  readonly intermediatesPem?: string;
}

export interface IssueOptions extends CertSubject {
  readonly now: number;
  /** Default 90 days; capped at the CA's own end. */
  readonly lifetimeMs?: number;
  /** More names (DNS or IP) to put in the certificate, e.g. the addresses of a manager's Docker API. */
  readonly hosts?: readonly string[];
}

export interface IssuedCertificate {
  /** The leaf first, then the CA's intermediates: what the node sends in its TLS handshakes. */
  readonly certChainPem: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The digest of the root whose key signed it (this CA's), as a rotation records it. */
  readonly issuerDigest: string;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export class CertificateAuthority {
  /** SHA-256 (hex) of this CA certificate: what join tokens pin while it is the root. */
  readonly digest: string;
  readonly #keys: CryptoKeyPair;
  readonly #keyPem: string;

  private constructor(
    readonly cert: x509.X509Certificate,
    keys: CryptoKeyPair,
    keyPem: string,
    readonly intermediatesPem: string,
    private readonly keyId: string,
  ) {
    this.digest = caDigest(cert.toString("pem"));
    this.#keys = keys;
    this.#keyPem = keyPem;
  }

  /** A new self-signed root: ECDSA P-256, 20 years, allowed one intermediate (a cross-signed root) below it. */
  static async create(options: NewRootOptions): Promise<CertificateAuthority> {
    checkName(options.clusterId, "cluster id");
    const keys = await generateKeyPair();
    const lifetimeMs = options.lifetimeMs ?? DEFAULT_ROOT_CA_LIFETIME_MS;
    const { notBefore, notAfter } = validityFrom(options.now, lifetimeMs);
    const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: newSerialNumber(),
      name: [{ CN: [`${ROOT_CN_PREFIX}-${newId().slice(0, 12)}`] }, { O: [options.clusterId] }],
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: EC_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 1, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        ski,
      ],
    });
    return new CertificateAuthority(cert, keys, await exportPrivateKeyPem(keys.privateKey), "", ski.keyId);
  }

  /** The CA from its stored certificate and key; checks that they belong together and that it is a CA. */
  static async load(options: LoadOptions): Promise<CertificateAuthority> {
    const der = pemBlocks(options.certPem, "CERTIFICATE")[0];
    if (!der) throw new CertificateError("malformed", "no CERTIFICATE block in the CA certificate PEM");
    const cert = new x509.X509Certificate(der);
    const constraints = cert.getExtension(x509.BasicConstraintsExtension);
    if (!constraints?.ca) throw new CertificateError("not-a-ca", `${cert.subject} is not a CA certificate`);
    const keys = await importPrivateKeyPem(options.keyPem);
    if (!(await sameKey(cert.publicKey, keys))) {
      throw new CertificateError("key-mismatch", "the CA key does not belong to the CA certificate");
    }
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    const keyId = ski?.keyId ?? Buffer.from(await cert.publicKey.getKeyIdentifier()).toString("hex");
    const intermediates = pemBlocks(options.intermediatesPem ?? "", "CERTIFICATE")
      .map((block) => new x509.X509Certificate(block).toString("pem"))
      .join("\n");
    return new CertificateAuthority(cert, keys, options.keyPem, intermediates, keyId);
  }

  /** This CA's certificate, PEM. */
  get certPem(): string {
    return this.cert.toString("pem");
  }

  /** The private key, PKCS#8 PEM: only for the replicated store (never for logs or inspect output). */
  exportKeyPem(): string {
    return this.#keyPem;
  }

  /** Keeps the key out of JSON (and so out of logs). */
  toJSON(): { subject: string; digest: string } {
    return { subject: this.cert.subject, digest: this.digest };
  }

  /**
   * Signs a node's (or client's) request into a certificate naming it: CN node id, OU role,
   * O cluster id. The request only contributes its key (after proof of possession); names and
   * usages are the CA's decision. Worker and manager certificates serve and connect (serverAuth
   * and clientAuth) and carry DNS names for their role and node id; client certificates only
   * connect.
   */
  async issue(csrPem: string, options: IssueOptions): Promise<IssuedCertificate> {
    checkName(options.nodeId, "node id");
    checkName(options.clusterId, "cluster id");
    const lifetimeMs = options.lifetimeMs ?? DEFAULT_NODE_CERT_LIFETIME_MS;
    if (!Number.isFinite(lifetimeMs) || lifetimeMs < MIN_NODE_CERT_LIFETIME_MS) {
      throw new CertificateError(
        "malformed",
        `a certificate lifetime must be at least ${MIN_NODE_CERT_LIFETIME_MS} ms`,
      );
    }
    const csr = await readCsr(csrPem);
    const { notBefore, notAfter } = validityFrom(options.now, lifetimeMs, this.cert.notAfter);
    if (notAfter.getTime() <= options.now) throw new CertificateError("expired", "the CA certificate has expired");
    const serialNumber = newSerialNumber();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber,
      subject: subjectName(options),
      issuer: this.cert.subjectName,
      notBefore,
      notAfter,
      publicKey: csr.publicKey,
      signingKey: this.#keys.privateKey,
      signingAlgorithm: EC_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(extendedUsages(options.role)),
        ...subjectAltNames(options),
        await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
        new x509.AuthorityKeyIdentifierExtension(this.keyId),
      ],
    });
    const certChainPem = [leaf.toString("pem"), this.intermediatesPem].filter((p) => p !== "").join("\n");
    return { certChainPem, serialNumber, notBefore, notAfter, issuerDigest: this.digest };
  }

  /**
   * Signs another root's certificate with this CA's key: same subject, key and key id as that
   * root, issued by this one. A node that trusts only this (old) root then accepts certificates
   * that the other (new) root issues, when they come with this cross-signed copy.
   */
  async crossSign(otherRootPem: string, now: number): Promise<string> {
    const other = new x509.X509Certificate(otherRootPem);
    const ski = other.getExtension(x509.SubjectKeyIdentifierExtension);
    if (!other.getExtension(x509.BasicConstraintsExtension)?.ca || !ski) {
      throw new CertificateError("not-a-ca", `${other.subject} is not a root this CA can cross-sign`);
    }
    const notAfter = Math.min(other.notAfter.getTime(), this.cert.notAfter.getTime());
    if (notAfter <= now) throw new CertificateError("expired", "the CA certificate has expired");
    const cross = await x509.X509CertificateGenerator.create({
      serialNumber: newSerialNumber(),
      subject: other.subjectName,
      issuer: this.cert.subjectName,
      notBefore: other.notBefore,
      notAfter: new Date(notAfter),
      publicKey: other.publicKey,
      signingKey: this.#keys.privateKey,
      signingAlgorithm: EC_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        new x509.SubjectKeyIdentifierExtension(ski.keyId),
        new x509.AuthorityKeyIdentifierExtension(this.keyId),
      ],
    });
    return cross.toString("pem");
  }
}

function checkName(value: string, what: string): void {
  if (!NAME_PATTERN.test(value)) {
    throw new CertificateError("malformed", `${what} "${value}" must be 1 to 64 letters, digits, '.', '_' or '-'`);
  }
}

function extendedUsages(role: CertRole): string[] {
  return role === "client"
    ? [x509.ExtendedKeyUsage.clientAuth]
    : [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
}

function subjectAltNames(options: IssueOptions): x509.Extension[] {
  const names: x509.JsonGeneralName[] =
    options.role === "client"
      ? []
      : [
          { type: "dns", value: ROLE_OU[options.role] },
          { type: "dns", value: options.nodeId },
        ];
  for (const host of options.hosts ?? []) names.push({ type: isIP(host) === 0 ? "dns" : "ip", value: host });
  return names.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(names)];
}
