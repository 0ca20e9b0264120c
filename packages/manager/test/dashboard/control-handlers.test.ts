import type * as grpc from "@grpc/grpc-js";
import type { pki } from "@shoal/shared";
import { Cluster, ManualClock } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { dashboardHandlers, type CallerWriteWrapper } from "../../src/dashboard/control-handlers.js";
import type { ReadWrapper } from "../../src/controlapi/secret-handlers.js";
import { MemoryStore } from "../../src/state/store/index.js";

const identity = (role: pki.CertRole, nodeId: string): pki.CertIdentity => ({
  nodeId,
  role,
  clusterId: "c1",
  serialNumber: "01",
  notBefore: new Date(0),
  notAfter: new Date(1e13),
  issuerKeyId: undefined,
});

/** Wrappers as the Control API's on a leader, with `caller` as the call's identity. */
function wrappers(caller: pki.CertIdentity | undefined): { write: CallerWriteWrapper; read: ReadWrapper } {
  const write: CallerWriteWrapper = (_method, fn) => (call, callback) => {
    fn(call.request, caller).then(
      (res) => callback(null, res),
      (err: Error) => callback({ details: err.message } as grpc.ServiceError),
    );
  };
  const read: ReadWrapper = (fn) => (call, callback) => callback(null, fn(call.request));
  return { write, read };
}

function invoke<Req, Res>(handler: grpc.handleUnaryCall<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    handler({ request } as grpc.ServerUnaryCall<Req, Res>, (err, res) => (err ? reject(err) : resolve(res!))),
  );
}

describe("the Control API's dashboard methods", () => {
  it("makes a link for a client certificate's name, with this manager's dashboard URL; refuses other callers", async () => {
    const store = new MemoryStore();
    await store.update((tx) => tx.clusters.create(Cluster.fromPartial({ id: "c1" })));
    const clock = new ManualClock(1_800_000_000_000);
    const deps = { store, clock, dashboardUrl: () => "https://10.0.0.1:8443" };
    const req = { linkTtl: undefined, sessionTtl: undefined, createdBy: "mallory" };

    const client = wrappers(identity("client", "alice"));
    const handlers = dashboardHandlers(deps, client.write, client.read);
    const res = await invoke(handlers.createDashboardLogin, req);
    expect(res.urls).toEqual(["https://10.0.0.1:8443"]);
    const listed = await invoke(handlers.listDashboardSessions, {});
    expect(listed.sessions.map((s) => s.createdBy)).toEqual(["alice"]);

    for (const caller of [identity("manager", "m1"), undefined]) {
      const w = wrappers(caller);
      await expect(invoke(dashboardHandlers(deps, w.write, w.read).createDashboardLogin, req)).rejects.toMatchObject({
        details: expect.stringMatching(/client certificate/) as unknown,
      });
    }
    expect(store.view((tx) => tx.clusters.get("c1")!.dashboardCredentials)).toHaveLength(1);
  });
});
