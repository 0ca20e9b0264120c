// The cluster PKI: the root CA, node keys and requests, signing, chain verification, join tokens,
// renewal timing and root rotation. Agents and the CLI make keys and check CA digests; managers sign.
export { x509 } from "./x509.js";
export { CertificateError, JoinTokenError, type CertificateRefusal, type JoinTokenRefusal } from "./errors.js";
export {
  generateKeyPair,
  exportPrivateKeyPem,
  importPrivateKeyPem,
  sameKey,
  type CryptoKey,
  type CryptoKeyPair,
} from "./keys.js";
export { caDigest } from "./digest.js";
export {
  newJoinToken,
  parseJoinToken,
  verifyCaAgainstToken,
  joinTokenRole,
  equalInConstantTime,
  type JoinRole,
  type JoinTokens,
  type ParsedJoinToken,
} from "./join-token.js";
export {
  ROLE_OU,
  MANAGER_SERVER_NAME,
  subjectName,
  identityOf,
  peerIdentity,
  type CertRole,
  type CertSubject,
  type CertIdentity,
} from "./identity.js";
export {
  DEFAULT_NODE_CERT_LIFETIME_MS,
  MIN_NODE_CERT_LIFETIME_MS,
  DEFAULT_ROOT_CA_LIFETIME_MS,
  RENEW_FROM,
  RENEW_UNTIL,
  validityFrom,
  renewalDelayMs,
  newSerialNumber,
  type Validity,
} from "./lifetime.js";
export { createKeyAndCsr, readCsr, type KeyAndCsr } from "./csr.js";
export {
  CertificateAuthority,
  ROOT_CN_PREFIX,
  type NewRootOptions,
  type LoadOptions,
  type IssueOptions,
  type IssuedCertificate,
} from "./certificate-authority.js";
export { verifyCertificateChain, type VerifyOptions } from "./verify.js";
export { startRootRotation, finishRootRotation, type RootRotation, type StartRotationOptions } from "./rotation.js";
