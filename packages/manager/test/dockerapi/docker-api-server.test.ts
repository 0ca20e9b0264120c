// The Docker API as a manager serves it (--docker-api): the routes over HTTPS with a client
// certificate, calling the manager's own Control API over gRPC, for /swarm and /info.
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { silentLogger } from "@shoal/shared";
import { Manager } from "../../src/manager.js";

let dataDir = "";
let manager: Manager;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shoal-docker-api-"));
  manager = new Manager({
    listen: "127.0.0.1:0",
    dataDir,
    dockerApi: "127.0.0.1:0",
    logger: silentLogger(),
    raft: { tickMs: 20, sync: false },
    heartbeatPeriodMs: 500,
  });
  await manager.start();
  // The founding leader stores the cluster object once it leads.
  await vi.waitFor(
    async () => {
      if ((await call("GET", "/swarm")).status !== 200) throw new Error("no cluster object yet");
    },
    { timeout: 20_000, interval: 50 },
  );
});

afterAll(async () => {
  await manager.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** One request with the manager's own certificate (the API admits managers and operators). */
function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const [host, port] = manager.dockerApiAddress.split(":") as [string, string];
  const files = manager.tls!.files;
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host,
        port: Number(port),
        method,
        path,
        ca: files.caPem,
        cert: files.certChainPem,
        key: files.keyPem,
        headers: text === undefined ? {} : { "Content-Type": "application/json" },
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (data += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: data === "" ? undefined : JSON.parse(data) }));
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

interface Swarm {
  ID: string;
  Version: { Index: number };
  Spec: Record<string, unknown>;
  JoinTokens: { Worker: string; Manager: string };
}

describe("a manager serving the Docker API", () => {
  it("serves /swarm: inspect, a token rotation, a stale version refused, no unlock key", async () => {
    const before = (await call("GET", "/v1.41/swarm")).json as Swarm;
    expect(before.JoinTokens.Worker).toMatch(/^SWMTKN-1-/);
    expect(before.Spec).toMatchObject({ Name: "default", Dispatcher: { HeartbeatPeriod: 5e8 } });

    const path = `/v1.41/swarm/update?version=${before.Version.Index}&rotateWorkerToken=true`;
    expect(await call("POST", path, before.Spec)).toEqual({ status: 200, json: undefined });
    const after = (await call("GET", "/v1.41/swarm")).json as Swarm;
    expect(after.JoinTokens.Worker).not.toBe(before.JoinTokens.Worker);
    expect(after.JoinTokens.Manager).toBe(before.JoinTokens.Manager);

    expect((await call("POST", path, before.Spec)).status).toBe(409);
    expect(await call("GET", "/v1.41/swarm/unlockkey")).toEqual({ status: 200, json: { UnlockKey: "" } });
  });

  it("shows the same cluster in /info, with this manager's address among the managers", async () => {
    const swarm = (await call("GET", "/swarm")).json as Swarm;
    const info = (await call("GET", "/v1.41/info")).json as { Swarm: Record<string, unknown> };
    expect(info.Swarm).toMatchObject({
      NodeID: manager.identity!.nodeId,
      ControlAvailable: true,
      Cluster: { ID: swarm.ID, Spec: swarm.Spec },
      RemoteManagers: [{ NodeID: manager.identity!.nodeId, Addr: manager.address }],
    });
  });
});
