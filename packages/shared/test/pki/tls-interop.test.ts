// The certificates in real TLS (OpenSSL, as grpc-js uses it): mutual authentication, the
// manager's DNS name, refusal of a forged client, and the rotation's cross-signed chain.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { MANAGER_SERVER_NAME, peerIdentity, startRootRotation, type CertIdentity } from "../../src/pki/index.js";
import { CLUSTER, issue, newRoot, type Issued } from "./fixtures.js";

const servers: tls.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A server requiring client certificates; resolves its port, and records each client's identity. */
async function serve(ca: string, own: Issued, seen: CertIdentity[]): Promise<number> {
  const server = tls.createServer(
    { ca, cert: own.certChainPem, key: own.keyPem, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      seen.push(peerIdentity(socket.getPeerCertificate().raw));
      socket.end("ok");
    },
  );
  server.on("tlsClientError", () => undefined);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

/** Connects with `own` to a manager; resolves what the server said, or rejects with the TLS error. */
function connect(port: number, ca: string, own: Issued): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: MANAGER_SERVER_NAME,
      ca,
      cert: own.certChainPem,
      key: own.keyPem,
    });
    let data = "";
    socket.on("data", (d: Buffer) => (data += d.toString()));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
  });
}

describe("the certificates in TLS", () => {
  it("authenticate both ends; the server reads the client's node id and role", async () => {
    const root = await newRoot(Date.now());
    const manager = await issue(root, "m1", "manager", { now: Date.now() });
    const worker = await issue(root, "w1", "worker", { now: Date.now() });
    const seen: CertIdentity[] = [];
    const port = await serve(root.certPem, manager, seen);
    await expect(connect(port, root.certPem, worker)).resolves.toBe("ok");
    expect(seen).toEqual([expect.objectContaining({ nodeId: "w1", role: "worker", clusterId: CLUSTER })]);
  });

  it("refuse a client with a forged certificate, and a server of another CA", async () => {
    const root = await newRoot(Date.now());
    const forger = await newRoot(Date.now());
    const manager = await issue(root, "m1", "manager", { now: Date.now() });
    const forged = await issue(forger, "m2", "manager", { now: Date.now() });
    const seen: CertIdentity[] = [];
    const port = await serve(root.certPem, manager, seen);
    // With TLS 1.3 the client may finish its side before the server refuses it: it then sees the
    // connection closed with nothing said, or an alert.
    await expect(connect(port, root.certPem, forged).catch(() => "refused")).resolves.not.toBe("ok");
    const impostorPort = await serve(forger.certPem, forged, []);
    const worker = await issue(root, "w1", "worker", { now: Date.now() });
    await expect(connect(impostorPort, root.certPem, worker)).rejects.toThrow(/self.signed|unable to get|verify/i);
    expect(seen).toEqual([]);
  });

  it("refuse a worker's certificate as a manager's (it lacks the manager DNS name)", async () => {
    const root = await newRoot(Date.now());
    const worker = await issue(root, "w1", "worker", { now: Date.now() });
    const other = await issue(root, "w2", "worker", { now: Date.now() });
    const port = await serve(root.certPem, worker, []);
    await expect(connect(port, root.certPem, other)).rejects.toThrow(/swarm-manager|altnames|Hostname/i);
  });

  it("during a rotation, connect nodes that trust only the old root with nodes holding new certificates", async () => {
    const old = await newRoot(Date.now());
    const rotation = await startRootRotation(old, { clusterId: CLUSTER, now: Date.now() });
    const renewedManager = await issue(rotation.signer, "m1", "manager", { now: Date.now() });
    const notYetRenewed = await issue(old, "w1", "worker", { now: Date.now() });
    const renewedWorker = await issue(rotation.signer, "w2", "worker", { now: Date.now() });

    // The manager trusts both roots; the old worker trusts only the old root.
    const seen: CertIdentity[] = [];
    const port = await serve(rotation.trustedRootsPem, renewedManager, seen);
    await expect(connect(port, old.certPem, notYetRenewed)).resolves.toBe("ok");
    await expect(connect(port, rotation.signer.certPem, renewedWorker)).resolves.toBe("ok");
    // A manager that trusts only the old root accepts a renewed worker through the cross-signed copy.
    const oldOnlyPort = await serve(old.certPem, await issue(old, "m2", "manager", { now: Date.now() }), seen);
    await expect(connect(oldOnlyPort, old.certPem, renewedWorker)).resolves.toBe("ok");
    expect(seen.map((s) => s.nodeId)).toEqual(["w1", "w2", "w2"]);
  });
});
