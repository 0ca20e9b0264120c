// The Control API's dashboard methods (`shoal dashboard login|sessions|revoke`, and the dashboard
// server's RedeemDashboardLogin), wired as the server's reads and writes: a follower forwards the
// writes to the leader, whose auth interceptor names the original caller.
//
// CreateDashboardLogin answers the dashboards' URLs: the leader's (it runs the write) and the
// answering manager's, first. A manager knows only its own dashboard's address; any manager's
// dashboard honours the link, since the credential is in the replicated store.
import type * as grpc from "@grpc/grpc-js";
import {
  ErrorCode,
  ShoalError,
  type Clock,
  type ControlClient,
  type ControlServer,
  type RequestOf,
  type ResponseOf,
  type UnaryMethodName,
  type pki,
} from "@shoal/shared";
import type { ReadWrapper } from "../controlapi/secret-handlers.js";
import type { MemoryStore } from "../state/store/index.js";
import { createLogin, listSessions, redeemLogin, revokeSessions } from "./credentials.js";

export type CallerWriteWrapper = <K extends UnaryMethodName<ControlClient>>(
  method: K,
  fn: (req: RequestOf<ControlClient, K>, caller: pki.CertIdentity | undefined) => Promise<ResponseOf<ControlClient, K>>,
) => grpc.handleUnaryCall<RequestOf<ControlClient, K>, ResponseOf<ControlClient, K>>;

type DashboardMethods =
  "createDashboardLogin" | "redeemDashboardLogin" | "listDashboardSessions" | "revokeDashboardSessions";

export interface DashboardHandlerDeps {
  readonly store: MemoryStore;
  readonly clock: Clock;
  /** This manager's dashboard (https://HOST:PORT), if it serves one. */
  readonly dashboardUrl?: (() => string | undefined) | undefined;
}

export function dashboardHandlers(
  deps: DashboardHandlerDeps,
  write: CallerWriteWrapper,
  read: ReadWrapper,
): Pick<ControlServer, DashboardMethods> {
  const { store, clock } = deps;
  const own = (): string[] => {
    const url = deps.dashboardUrl?.();
    return url ? [url] : [];
  };
  const create = write("createDashboardLogin", async (req, caller) => {
    if (caller?.role !== "client") {
      throw new ShoalError(ErrorCode.PermissionDenied, "a dashboard login is for a client certificate's holder");
    }
    const res = await createLogin(store, req, { now: clock.now(), createdBy: caller.nodeId });
    return { ...res, urls: own() };
  });
  return {
    // The answering manager's URL first (a follower's is added to the leader's answer).
    createDashboardLogin: (call, callback) =>
      create(call, (err, res, ...rest) =>
        callback(err, res ? { ...res, urls: [...new Set([...own(), ...res.urls])] } : res, ...rest),
      ),
    redeemDashboardLogin: write("redeemDashboardLogin", (req) => redeemLogin(store, req.token, clock.now())),
    listDashboardSessions: read(() => ({
      sessions: listSessions(
        store.view((tx) => tx.clusters.find()[0]),
        clock.now(),
      ),
    })),
    revokeDashboardSessions: write("revokeDashboardSessions", async (req) => ({
      revoked: await revokeSessions(store, req, clock.now()),
    })),
  };
}
