// Mutual TLS for the cluster's gRPC: the material a node holds (hot-swappable), credentials for
// servers, clients and joining, the files on disk, joining with a token, and renewal.
export { TlsMaterial, leafIdentity, type TlsFiles } from "./tls-material.js";
export {
  serverCredentials,
  channelCredentials,
  pinnedCredentials,
  bootstrapCredentials,
  MANAGER_CHANNEL_OPTIONS,
} from "./credentials.js";
export { readCertFiles, writeCertFiles, CA_FILE, CERT_FILE, KEY_FILE } from "./cert-files.js";
export {
  getRootCa,
  issueNodeCertificate,
  isRetryable,
  NodeCaIssuer,
  NODE_CA_CALL_TIMEOUT_MS,
  type CertificateIssuer,
  type CallOptions,
} from "./node-ca-client.js";
export { joinCluster, checkIssued, type JoinOptions, type JoinResult, type CheckIssuedOptions } from "./join.js";
export { CertificateRenewer, MAX_SLEEP_MS, MIN_RENEWAL_INTERVAL_MS, type RenewerOptions } from "./renewer.js";
export { joinWithRetry, nodeRenewer, retryWhileElecting, type RetryOptions } from "./node-tls.js";
export {
  agentBesideManager,
  managerBesideAgent,
  type AgentBesideOptions,
  type ManagerCertificateOptions,
} from "./agent-beside.js";
