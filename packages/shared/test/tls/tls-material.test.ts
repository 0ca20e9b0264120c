// TlsMaterial as grpc-js's certificate provider: a renewed certificate or new roots reach a running
// server and its clients, and what is open stays open.
import { once } from "node:events";
import * as tls from "node:tls";
import type * as grpc from "@grpc/grpc-js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { DispatcherClient, DispatcherService, type DispatcherServer, type SessionResponse } from "../../src/api.js";
import { peerIdentity, MANAGER_SERVER_NAME, type CertificateAuthority } from "../../src/pki/index.js";
import { channelCredentials, getRootCa, MANAGER_CHANNEL_OPTIONS, TlsMaterial } from "../../src/tls/index.js";
import { NodeCAClient, NodeCAService, type NodeCAServer } from "../../src/api.js";
import { issueFiles, newRoot, serve, shutdown, type Served } from "./fixtures.js";

/** Connections and key generation on a loaded 2-core machine can take more than the default second. */
const POLL = { timeout: 10_000 };

let root: CertificateAuthority;
beforeAll(async () => {
  root = await newRoot();
});

describe("TlsMaterial", () => {
  it("tells each listener the current material once added, and every change after", async () => {
    const material = new TlsMaterial(await issueFiles(root, "w1", "worker"));
    const cas: string[] = [];
    const certs: string[] = [];
    const onCa = (u: grpc.experimental.CaCertificateUpdate | null): void => void cas.push(u!.caCertificate.toString());
    const onCert = (u: grpc.experimental.IdentityCertificateUpdate | null): void =>
      void certs.push(u!.certificate.toString());
    material.addCaCertificateListener(onCa);
    material.addIdentityCertificateListener(onCert);
    expect(cas).toEqual([]); // not during add: grpc-js's server is not ready to hear it yet
    await new Promise((resolve) => process.nextTick(resolve));
    expect(cas).toEqual([root.certPem]);
    expect(certs).toEqual([material.files.certChainPem]);

    const renewed = await issueFiles(root, "w1", "worker");
    material.update(renewed);
    expect(certs).toEqual([expect.any(String), renewed.certChainPem]);
    expect(cas).toHaveLength(1); // same roots: not repeated

    material.removeIdentityCertificateListener(onCert);
    material.removeCaCertificateListener(onCa);
    expect(material.listenerCount).toBe(0);
  });

  it("refuses a chain that names no node, keeping what it had; keeps the key out of JSON", async () => {
    const files = await issueFiles(root, "w1", "worker");
    const material = new TlsMaterial(files);
    expect(() => material.update({ ...files, certChainPem: root.certPem })).toThrow(/does not name/);
    expect(material.files).toBe(files);
    expect(JSON.stringify(material)).not.toContain("PRIVATE KEY");
    expect(material.identity).toMatchObject({ nodeId: "w1", role: "worker" });
  });
});

describe("hot swap in a running gRPC server and client", () => {
  let served: Served | undefined;
  const clients: grpc.Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    shutdown(served);
    served = undefined;
  });

  /** The serial of the certificate a fresh TLS connection to the server is shown. */
  async function servedSerial(port: number, client: TlsMaterial): Promise<string> {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: MANAGER_SERVER_NAME,
      ALPNProtocols: ["h2"],
      ca: client.files.caPem,
      cert: client.files.certChainPem,
      key: client.files.keyPem,
    });
    await once(socket, "secureConnect");
    const serial = peerIdentity(socket.getPeerCertificate().raw).serialNumber;
    socket.destroy();
    return serial;
  }

  it("a renewed server certificate serves new connections while an open stream goes on", async () => {
    const manager = new TlsMaterial(await issueFiles(root, "m1", "manager"));
    const worker = new TlsMaterial(await issueFiles(root, "w1", "worker"));
    const streams: grpc.ServerWritableStream<unknown, SessionResponse>[] = [];
    const callers: string[] = [];
    const dispatcher: Partial<DispatcherServer> = {
      session: (call) => {
        callers.push(peerIdentity(call.getAuthContext().sslPeerCertificate!.raw).serialNumber);
        streams.push(call);
        call.write({
          sessionId: "s1",
          node: undefined,
          managers: [],
          rootCaDigest: "",
          renewCertificate: false,
          imagePull: undefined,
        });
      },
    };
    served = await serve(manager, [[DispatcherService, dispatcher]]);
    const before = manager.identity.serialNumber;
    expect(await servedSerial(served.port, worker)).toBe(before);

    const client = new DispatcherClient(served.addr, channelCredentials(worker), MANAGER_CHANNEL_OPTIONS);
    clients.push(client);
    const stream = client.session({ description: undefined, nodeId: "", joinToken: "" } as never);
    const received: string[] = [];
    stream.on("data", (m: SessionResponse) => received.push(m.sessionId));
    stream.on("error", () => undefined);
    await expect.poll(() => received, POLL).toEqual(["s1"]);

    manager.update(await issueFiles(root, "m1", "manager"));
    const after = manager.identity.serialNumber;
    expect(after).not.toBe(before);
    expect(await servedSerial(served.port, worker)).toBe(after);

    streams[0]!.write({
      sessionId: "s2",
      node: undefined,
      managers: [],
      rootCaDigest: "",
      renewCertificate: false,
      imagePull: undefined,
    });
    await expect.poll(() => received, POLL).toEqual(["s1", "s2"]);

    // The client renews too: a new connection presents the new certificate, the old stream stays.
    // (Channels with the same material share grpc-js's subchannel pool, hence the local pool here
    // to force a second connection.)
    worker.update(await issueFiles(root, "w1", "worker"));
    const second = new DispatcherClient(served.addr, channelCredentials(worker), {
      ...MANAGER_CHANNEL_OPTIONS,
      "grpc.use_local_subchannel_pool": 1,
    });
    clients.push(second);
    const other = second.session({ description: undefined, nodeId: "", joinToken: "" } as never);
    other.on("data", () => undefined);
    other.on("error", () => undefined);
    await expect.poll(() => callers, POLL).toHaveLength(2);
    expect(callers[1]).toBe(worker.identity.serialNumber);
    expect(callers[0]).not.toBe(callers[1]);
    streams[0]!.write({
      sessionId: "s3",
      node: undefined,
      managers: [],
      rootCaDigest: "",
      renewCertificate: false,
      imagePull: undefined,
    });
    await expect.poll(() => received, POLL).toEqual(["s1", "s2", "s3"]);
    for (const s of streams) s.end();
  });

  it("new roots apply to new connections: a node of a new root gets its identity once the server trusts it", async () => {
    const manager = new TlsMaterial(await issueFiles(root, "m1", "manager"));
    const next = await newRoot();
    // The stranger trusts the manager's root, so that it reaches the server; the server, at first,
    // does not trust the stranger's.
    const stranger = new TlsMaterial(await issueFiles(next, "w2", "worker", { roots: root.certPem }));
    const seen: (string | undefined)[] = [];
    const nodeCa: Partial<NodeCAServer> = {
      getRootCaCertificate: (call, callback) => {
        const cert = call.getAuthContext().sslPeerCertificate;
        seen.push(cert ? peerIdentity(cert.raw).nodeId : undefined);
        callback(null, { caCert: Buffer.alloc(0) });
      },
    };
    served = await serve(manager, [[NodeCAService, nodeCa]]);
    const ask = async (): Promise<void> => {
      const client = new NodeCAClient(served!.addr, channelCredentials(stranger), {
        ...MANAGER_CHANNEL_OPTIONS,
        "grpc.use_local_subchannel_pool": 1,
      });
      clients.push(client);
      await getRootCa(client, { timeoutMs: 5_000 });
    };
    await ask();
    manager.update({ ...manager.files, caPem: `${root.certPem}\n${next.certPem}` });
    await ask();
    expect(seen).toEqual([undefined, "w2"]);
  });
});
