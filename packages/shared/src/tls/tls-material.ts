// What a node presents and trusts in TLS: the roots (CA PEM), its certificate chain and its key.
//
// TlsMaterial is the one place that holds them while the node runs. It implements grpc-js's
// experimental CertificateProvider, so servers and channels built on it (see credentials.ts) pick
// up a renewed certificate or new roots without a restart: grpc-js gives the server a new secure
// context (Node's setSecureContext), which applies to connections made from then on; connections
// and streams already open keep the context they were made with.
import type { experimental } from "@grpc/grpc-js";
import { identityOf, type CertIdentity } from "../pki/identity.js";
import { CertificateError } from "../pki/errors.js";
import { pemBlocks, x509 } from "../pki/x509.js";

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** The three PEM texts of a node (or CLI client): the docker DOCKER_CERT_PATH trio. */
export interface TlsFiles {
  /** Roots to trust (two during a root rotation). */
  readonly caPem: string;
  /** The leaf first, then any intermediates (the cross-signed root during a rotation). */
  readonly certChainPem: string;
  /** PKCS#8 PEM of the leaf's key. */
  readonly keyPem: string;
}

export class TlsMaterial implements experimental.CertificateProvider {
  #files: TlsFiles;
  #identity: CertIdentity;
  readonly #caListeners = new Set<CaListener>();
  readonly #identityListeners = new Set<IdentityListener>();

  constructor(files: TlsFiles) {
    this.#identity = leafIdentity(files.certChainPem);
    this.#files = files;
  }

  /** The current PEM texts. */
  get files(): TlsFiles {
    return this.#files;
  }

  /** Who the current certificate names, and its validity (for the renewal point). */
  get identity(): CertIdentity {
    return this.#identity;
  }

  /**
   * Replaces the material and tells every server and channel using it. Throws CertificateError,
   * changing nothing, when the chain does not parse or does not name a node.
   */
  update(files: TlsFiles): void {
    const identity = leafIdentity(files.certChainPem);
    const caChanged = files.caPem !== this.#files.caPem;
    const identityChanged = files.certChainPem !== this.#files.certChainPem || files.keyPem !== this.#files.keyPem;
    this.#files = files;
    this.#identity = identity;
    if (caChanged) for (const listener of this.#caListeners) listener(this.caUpdate());
    if (identityChanged) for (const listener of this.#identityListeners) listener(this.identityUpdate());
  }

  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    // Later, not now: grpc-js's server registers its own watcher only after adding this listener.
    process.nextTick(() => {
      if (this.#caListeners.has(listener)) listener(this.caUpdate());
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    process.nextTick(() => {
      if (this.#identityListeners.has(listener)) listener(this.identityUpdate());
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }

  /** Listeners registered by grpc-js (servers and channels in use); for tests and debugging. */
  get listenerCount(): number {
    return this.#caListeners.size + this.#identityListeners.size;
  }

  /** Keeps the key out of JSON (and so out of logs). */
  toJSON(): { nodeId: string; role: string; notAfter: string } {
    return {
      nodeId: this.#identity.nodeId,
      role: this.#identity.role,
      notAfter: this.#identity.notAfter.toISOString(),
    };
  }

  private caUpdate(): experimental.CaCertificateUpdate {
    return { caCertificate: Buffer.from(this.#files.caPem) };
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate {
    return { certificate: Buffer.from(this.#files.certChainPem), privateKey: Buffer.from(this.#files.keyPem) };
  }
}

/** The identity named by the first certificate of a PEM chain. */
export function leafIdentity(certChainPem: string): CertIdentity {
  const leaf = pemBlocks(certChainPem, "CERTIFICATE")[0];
  if (!leaf) throw new CertificateError("malformed", "no CERTIFICATE block in the certificate chain");
  return identityOf(new x509.X509Certificate(leaf));
}
