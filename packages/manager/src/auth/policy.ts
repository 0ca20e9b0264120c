// Who may call what: one table, by gRPC service and method. The auth interceptor applies it to
// every call, after TLS has verified the peer's certificate (if any) against the cluster's roots.
//
// A caller is "anonymous" (no verified certificate) or the role its certificate names: worker,
// manager, or client (the CLI). Beyond the certificate, the interceptor checks the store on every
// call: a worker or manager must still be a node of the cluster (a removed node is refused at
// once), a manager certificate on a manager-only method needs the node's desired role to still
// be manager (a demoted manager loses them at once), a client certificate must not be revoked.
// Methods missing from the table are refused: a new method is closed until it is added here.
import type { pki } from "@shoal/shared";

export type CallerKind = "anonymous" | pki.CertRole;

export interface MethodRule {
  /** Who may call. */
  readonly allow: readonly CallerKind[];
  /** The caller's manager must be a member of the Raft group. */
  readonly raftMember?: boolean;
  /**
   * The handler acts only for the caller's own node, whose id comes from its certificate (never
   * from the request): the dispatcher's sessions, heartbeats, assignments and task reports.
   */
  readonly ownNodeOnly?: boolean;
  /** Why, for the refusal message and the docs. */
  readonly why: string;
}

export interface ServiceRules {
  /** Applies to every method of the service not listed in `methods`. */
  readonly default?: MethodRule;
  readonly methods?: Readonly<Record<string, MethodRule>>;
}

const ANYONE: readonly CallerKind[] = ["anonymous", "worker", "manager", "client"];
const NODES: readonly CallerKind[] = ["worker", "manager"];
const OPERATORS: readonly CallerKind[] = ["client", "manager"];
const MANAGERS: readonly CallerKind[] = ["manager"];

/** The table, by full service name (package.Service) and method name as in the .proto. */
export const POLICY: Readonly<Record<string, ServiceRules>> = {
  "shoal.v1.NodeCA": {
    methods: {
      GetRootCACertificate: {
        allow: ANYONE,
        why: "a joining node fetches the roots, then checks them against its token",
      },
      IssueNodeCertificate: {
        allow: ["anonymous", "worker", "manager"],
        why: "joining (no certificate, a join token) or renewal (the node's own certificate)",
      },
    },
  },
  "shoal.v1.RaftTransport": {
    default: { allow: MANAGERS, raftMember: true, why: "only the Raft group's managers speak Raft" },
  },
  "shoal.v1.RaftMembership": {
    methods: {
      // A manager joins the Raft group after it got its manager certificate with the manager token.
      Join: { allow: MANAGERS, why: "a manager (by certificate and in the store) joins the Raft group" },
      // An operator removes a manager (shoal cluster remove-manager); a manager must be a member.
      Leave: {
        allow: OPERATORS,
        raftMember: true,
        why: "an operator, or a member of the Raft group, removes a manager from it",
      },
    },
  },
  "shoal.v1.Dispatcher": {
    default: { allow: NODES, ownNodeOnly: true, why: "nodes talk to the dispatcher, each for itself" },
    methods: {
      ReportImagePull: {
        allow: NODES,
        ownNodeOnly: true,
        why: "a node reports on the image pulls asked of it, on its own session",
      },
    },
  },
  "shoal.v1.Control": {
    default: {
      allow: OPERATORS,
      why: "the Control API is for operators (client certificates) and managers, never workers",
    },
    methods: {
      // Listed on its own: it makes every node pull, with registry credentials the caller gives.
      PullImage: {
        allow: OPERATORS,
        why: "pulling an image on every node is for operators and managers (a follower forwards it), never workers",
      },
      // As PullImage: it asks every node's engine, through the same machinery.
      InspectImage: {
        allow: OPERATORS,
        why: "inspecting an image on every node is for operators and managers (a follower forwards it), never workers",
      },
      // Secrets and configs: listed on their own so that no later default opens them to nodes. A
      // manager calls them only for a client (a follower forwarding it, or the Docker API on its
      // loopback); the data reaches a node only through the dispatcher, for its own tasks.
      ...secretRules(),
      ...dashboardRules(),
    },
  },
  "shoal.v1.Events": {
    default: { allow: OPERATORS, why: "the cluster's events are for operators and managers" },
  },
  "shoal.v1.Backup": {
    // A backup holds the whole store, the CA's key included: operators only, never workers.
    default: { allow: OPERATORS, why: "a backup holds the whole store, the CA key included" },
  },
  "shoal.v1.Logs": {
    methods: {
      SubscribeLogs: { allow: OPERATORS, why: "reading logs is a Control API matter" },
      ListenSubscriptions: { allow: NODES, ownNodeOnly: true, why: "a node learns which of its tasks' logs to send" },
      PublishLogs: { allow: NODES, ownNodeOnly: true, why: "a node publishes its own tasks' logs" },
    },
  },
  "shoal.v1.Containers": {
    methods: {
      // Exec and attach need more than this: a client certificate (containers/call-caller.ts).
      ContainerCall: { allow: OPERATORS, why: "running commands in task containers is for operators" },
      ListenContainerCalls: { allow: NODES, ownNodeOnly: true, why: "a node learns the calls to its own containers" },
      ServeContainerCall: { allow: NODES, ownNodeOnly: true, why: "a node serves calls to its own containers" },
    },
  },
};

/** The rules of the secret and config methods of the Control API. */
function secretRules(): Record<string, MethodRule> {
  const out: Record<string, MethodRule> = {};
  for (const kind of ["Secret", "Config"]) {
    for (const verb of ["Create", "Update", "Remove"]) {
      out[`${verb}${kind}`] = {
        allow: OPERATORS,
        why: `${kind.toLowerCase()}s are written by operators (a manager forwards for one), never by nodes`,
      };
    }
    for (const method of [`Get${kind}`, `List${kind}s`]) {
      out[method] = {
        allow: OPERATORS,
        why: `${kind.toLowerCase()}s are listed for operators only; nodes get what their tasks use from the dispatcher`,
      };
    }
  }
  return out;
}

/**
 * The dashboard's credentials: operators ask for links (CreateDashboardLogin itself refuses a
 * caller that is not a client certificate: the link is made for its name); managers forward for
 * them, and a manager's dashboard revokes a session on logout and redeems links for browsers.
 */
function dashboardRules(): Record<string, MethodRule> {
  const clients: MethodRule = {
    allow: OPERATORS,
    why: "dashboard links and sessions are for operators (a manager forwards for one, or logs a browser out)",
  };
  return {
    CreateDashboardLogin: clients,
    ListDashboardSessions: clients,
    RevokeDashboardSessions: clients,
    RedeemDashboardLogin: { allow: MANAGERS, why: "a manager's dashboard redeems a login link for a browser" },
  };
}

/** The Docker Engine API endpoint (HTTPS, not gRPC) follows the Control API's rule. */
export const DOCKER_API_RULE: MethodRule = {
  allow: OPERATORS,
  why: "the Docker Engine API is a Control API: operators and managers, never workers",
};

/** The rule for a gRPC method path ("/shoal.v1.Control/ListNodes"), or undefined: refused. */
export function ruleFor(path: string): MethodRule | undefined {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!match) return undefined;
  const service = POLICY[match[1]!];
  return service?.methods?.[match[2]!] ?? service?.default;
}

/**
 * Whether a manager certificate needs the node's role in the store to be manager here: on every
 * method workers may not call (so a demoted manager, whose certificate still says manager until it
 * renews, loses them at once). Where workers may call, a demoted manager calls as the worker it is.
 */
export function needsStoreManager(rule: MethodRule, role: CallerKind): boolean {
  return role === "manager" && !rule.allow.includes("worker");
}
