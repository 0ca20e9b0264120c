// joinCluster against a small NodeCA over real TLS: it checks the manager's CA against the token
// before it sends the token, and checks what it gets back.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { NodeRole } from "../../src/api.js";
import { newId } from "../../src/ids.js";
import { toServiceError } from "../../src/grpc/status.js";
import { joinTokenRole, newJoinToken, type CertificateAuthority, type JoinTokens } from "../../src/pki/index.js";
import { joinCluster, joinWithRetry, readCertFiles, TlsMaterial } from "../../src/tls/index.js";
import { ErrorCode, ShoalError } from "../../src/errors.js";
import { silentLogger } from "../../src/logging.js";
import { NodeCAService, type IssueNodeCertificateRequest, type NodeCAServer } from "../../src/api.js";
import { CLUSTER, issueFiles, newRoot, serve, shutdown, type Served } from "./fixtures.js";

let root: CertificateAuthority;
let other: CertificateAuthority;
let tokens: JoinTokens;
const served: Served[] = [];
const dirs: string[] = [];
/** IssueNodeCertificate requests each fake CA received. */
const received: IssueNodeCertificateRequest[] = [];

beforeAll(async () => {
  root = await newRoot();
  other = await newRoot();
  tokens = { worker: newJoinToken(root.digest), manager: newJoinToken(root.digest) };
});

afterEach(async () => {
  for (const s of served.splice(0)) shutdown(s);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  received.length = 0;
});

/**
 * A NodeCA that signs with `ca`, admitting the tokens of `tokens` (a stand-in for the manager's).
 * `refuse` answers instead of signing while it returns an error (a follower, an election).
 */
async function fakeCa(ca: CertificateAuthority, refuse?: () => Error | undefined): Promise<Served> {
  const impl: NodeCAServer = {
    getRootCaCertificate: (_call, callback) => callback(null, { caCert: Buffer.from(ca.certPem) }),
    issueNodeCertificate: (call, callback) => {
      received.push(call.request);
      const refusal = refuse?.();
      if (refusal !== undefined) {
        callback(toServiceError(refusal));
        return;
      }
      void (async () => {
        const role = joinTokenRole(call.request.token, tokens, ca.digest);
        const nodeId = newId();
        const { certChainPem } = await ca.issue(Buffer.from(call.request.csr).toString(), {
          nodeId,
          role,
          clusterId: CLUSTER,
          now: Date.now(),
        });
        return {
          nodeId,
          role: role === "manager" ? NodeRole.MANAGER : NodeRole.WORKER,
          certificateChain: Buffer.from(certChainPem),
          caCert: Buffer.from(ca.certPem),
        };
      })().then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
    },
  };
  const s = await serve(new TlsMaterial(await issueFiles(ca, "m1", "manager")), [[NodeCAService, impl]]);
  served.push(s);
  return s;
}

describe("joinCluster", () => {
  it("with the worker token: a worker certificate naming the node id the CA chose, written 0600", async () => {
    const manager = await fakeCa(root);
    const certDir = join(await mkdtemp(join(tmpdir(), "shoal-join-")), "certificates");
    dirs.push(join(certDir, ".."));
    const joined = await joinCluster({ managers: [manager.addr], token: tokens.worker, certDir });
    expect(joined.role).toBe("worker");
    expect(joined.identity).toMatchObject({ nodeId: joined.nodeId, role: "worker", clusterId: CLUSTER });
    expect(joined.material.files.caPem).toBe(root.certPem);
    expect(await readCertFiles(certDir)).toEqual(joined.material.files);
    expect(received).toEqual([expect.objectContaining({ token: tokens.worker })]);
  });

  it("with the manager token: a manager certificate", async () => {
    const manager = await fakeCa(root);
    const joined = await joinCluster({ managers: [manager.addr], token: tokens.manager });
    expect(joined.identity.role).toBe("manager");
  });

  it("refuses a manager whose CA is not the token's before sending the token (no trust on first use)", async () => {
    const impostor = await fakeCa(other);
    await expect(joinCluster({ managers: [impostor.addr], token: tokens.worker })).rejects.toMatchObject({
      reason: "wrong-ca",
    });
    expect(received).toEqual([]);
  });

  it("a token made for another CA is refused before anything is sent", async () => {
    const manager = await fakeCa(root);
    const foreign = newJoinToken(other.digest);
    await expect(joinCluster({ managers: [manager.addr], token: foreign })).rejects.toMatchObject({
      reason: "wrong-ca",
    });
    expect(received).toEqual([]);
  });

  it("a wrong secret is refused by the CA with PERMISSION_DENIED; a malformed token fails before connecting", async () => {
    const manager = await fakeCa(root);
    const wrong = newJoinToken(root.digest);
    await expect(joinCluster({ managers: [manager.addr], token: wrong })).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      message: expect.stringMatching(/not valid for this cluster/),
    });
    await expect(joinCluster({ managers: [manager.addr], token: "SWMTKN-1-nope" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("tries the next manager when one is down", async () => {
    const manager = await fakeCa(root);
    const down = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      down.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    down.forceShutdown();
    const joined = await joinCluster({
      managers: [`127.0.0.1:${port}`, manager.addr],
      token: tokens.worker,
      timeoutMs: 3_000,
    });
    expect(joined.role).toBe("worker");
  });

  it("follows a follower's leader hint to the leader, which signs", async () => {
    const leader = await fakeCa(root);
    const follower = await fakeCa(
      root,
      () => new ShoalError(ErrorCode.NotLeader, `not the leader; the leader is ${leader.addr}`),
    );
    const joined = await joinCluster({ managers: [follower.addr], token: tokens.worker, timeoutMs: 3_000 });
    expect(joined.role).toBe("worker");
    expect(joined.manager).toBe(leader.addr);
    expect(received).toHaveLength(2); // the follower's refusal, then the leader's signature
  });

  it("asks again while the cluster elects, and says what it tried when it gives up", async () => {
    let refusals = 3;
    const electing = await fakeCa(root, () =>
      refusals-- > 0 ? new ShoalError(ErrorCode.NotLeader, "no leader is known now") : undefined,
    );
    const joined = await joinWithRetry([electing.addr], tokens.worker, undefined, silentLogger(), undefined, 10_000);
    expect(joined.manager).toBe(electing.addr);
    expect(received).toHaveLength(4);

    const never = await fakeCa(root, () => new ShoalError(ErrorCode.NotLeader, "no leader is known now"));
    await expect(
      joinWithRetry([never.addr], tokens.worker, undefined, silentLogger(), undefined, 1_500),
    ).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringMatching(
        new RegExp(
          `could not join the cluster through ${never.addr}: \\d+ tries in [\\d.]+ s, the last: .*no leader is known now`,
        ),
      ),
    });
  });
});
