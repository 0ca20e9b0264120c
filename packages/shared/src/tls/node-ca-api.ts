// The NodeCA wire types (proto/shoal/v1/ca.proto), re-exported by name. They live with the TLS
// code until packages/shared/src/api.ts, which other work is changing now, re-exports them.
export {
  GetRootCACertificateRequest,
  GetRootCACertificateResponse,
  IssueNodeCertificateRequest,
  IssueNodeCertificateResponse,
  NodeCAClient,
  NodeCAService,
  RevokedCertificate,
  RootCA,
  RootCARotation,
  type NodeCAServer,
} from "../gen/shoal/v1/ca.js";
