// The cluster's credentials in real gRPC over loopback TLS: who gets through the handshake, and
// what identity the server sees.
import type * as grpc from "@grpc/grpc-js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { fromServiceError } from "../../src/grpc/status.js";
import { peerIdentity, type CertIdentity, type CertificateAuthority } from "../../src/pki/index.js";
import {
  bootstrapCredentials,
  channelCredentials,
  getRootCa,
  MANAGER_CHANNEL_OPTIONS,
  pinnedCredentials,
  TlsMaterial,
} from "../../src/tls/index.js";
import { NodeCAClient, NodeCAService, type NodeCAServer } from "../../src/api.js";
import { issueFiles, material, newRoot, serve, shutdown, type Served } from "./fixtures.js";

let root: CertificateAuthority;
let other: CertificateAuthority;
let manager: TlsMaterial;
let served: Served | undefined;
const clients: grpc.Client[] = [];
/** The identity the server saw on each call: undefined for a peer without a verified certificate. */
const seen: (CertIdentity | undefined)[] = [];

const nodeCa: Partial<NodeCAServer> = {
  getRootCaCertificate: (call, callback) => {
    const cert = call.getAuthContext().sslPeerCertificate;
    seen.push(cert ? peerIdentity(cert.raw) : undefined);
    callback(null, { caCert: Buffer.from(root.certPem) });
  },
};

beforeAll(async () => {
  root = await newRoot();
  other = await newRoot();
  manager = await material(root, "m1", "manager");
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await shutdown(served);
  served = undefined;
  seen.length = 0;
});

function client(creds: grpc.ChannelCredentials): NodeCAClient {
  const c = new NodeCAClient(served!.addr, creds, MANAGER_CHANNEL_OPTIONS);
  clients.push(c);
  return c;
}

const ask = (c: NodeCAClient): Promise<unknown> => getRootCa(c, { timeoutMs: 5_000 });

describe("serverCredentials + channelCredentials", () => {
  it("a node's certificate reaches the server as its identity (mutual TLS)", async () => {
    served = await serve(manager, [[NodeCAService, nodeCa]]);
    const worker = await material(root, "w1", "worker");
    await ask(client(channelCredentials(worker)));
    expect(seen).toEqual([expect.objectContaining({ nodeId: "w1", role: "worker" })]);
  });

  it("a peer without a certificate gets through the handshake with no identity (to join)", async () => {
    served = await serve(manager, [[NodeCAService, nodeCa]]);
    await ask(client(pinnedCredentials(root.certPem)));
    await ask(client(bootstrapCredentials()));
    expect(seen).toEqual([undefined, undefined]);
  });

  it("a certificate from another CA gets no identity: it is anonymous, never the node it names", async () => {
    served = await serve(manager, [[NodeCAService, nodeCa]]);
    const forged = await issueFiles(other, "w1", "worker", { roots: root.certPem });
    await ask(client(channelCredentials(new TlsMaterial(forged))));
    expect(seen).toEqual([undefined]);
  });

  it("the client refuses a server of another CA at the handshake", async () => {
    served = await serve(await material(other, "m9", "manager"), [[NodeCAService, nodeCa]]);
    const worker = await material(root, "w1", "worker");
    const err = await ask(client(channelCredentials(worker))).catch(fromServiceError);
    expect(err).toMatchObject({ code: "UNAVAILABLE" });
    expect(seen).toEqual([]);
  });

  it("the client refuses a server whose certificate is not a manager's (name swarm-manager)", async () => {
    served = await serve(await material(root, "w2", "worker"), [[NodeCAService, nodeCa]]);
    const worker = await material(root, "w1", "worker");
    const err = await ask(client(channelCredentials(worker))).catch(fromServiceError);
    expect(err).toMatchObject({ code: "UNAVAILABLE" });
    expect(seen).toEqual([]);
  });
});
