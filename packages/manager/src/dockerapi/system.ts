// GET|HEAD /_ping, GET /version, GET /info: version negotiation and the Swarm section the CLI
// checks (ControlAvailable for stack deploy, NodeID for the `*` of node ls).
import { arch, cpus, hostname, release, totalmem } from "node:os";
import { VERSION } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { API_VERSION, MIN_API_VERSION, type Handler } from "./router.js";
import { visibleLabels } from "./unmapped-fields.js";
import { isNetworkLabel } from "./networks.js";

const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };

export const ping: Handler = (req) => {
  req.res.writeHead(200, {
    "Content-Type": "text/plain; charset=utf-8",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    Pragma: "no-cache",
    Swarm: "active/manager",
  });
  req.res.end(req.raw.method === "HEAD" ? undefined : "OK");
  return "streamed";
};

export const version: Handler = () => {
  const details = {
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: "shoal",
    GoVersion: `node${process.versions.node}`,
    Os: "linux",
    Arch: GO_ARCH[arch()] ?? arch(),
    KernelVersion: release(),
    BuildTime: "",
    Experimental: "false",
  };
  return {
    status: 200,
    json: {
      Platform: { Name: "Shoal" },
      Components: [{ Name: "Engine", Version: VERSION, Details: details }],
      Version: VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: "shoal",
      GoVersion: details.GoVersion,
      Os: "linux",
      Arch: details.Arch,
      KernelVersion: details.KernelVersion,
    },
  };
};

export function info(ctx: DockerApiContext): Handler {
  return async () => {
    const [status, { nodes }, { clusters }] = await Promise.all([
      ctx.control.call("getInfo", {}),
      ctx.control.call("listNodes", { filters: undefined }),
      ctx.control.call("listClusters", {}),
    ]);
    const cluster = clusters[0];
    const members = status.raft?.members ?? [];
    const spec = cluster?.spec;
    const labels = Object.fromEntries(
      Object.entries(visibleLabels(spec?.annotations?.labels)).filter(([k]) => !isNetworkLabel(k)),
    );
    const heartbeat = spec?.dispatcher?.heartbeatPeriod;
    return {
      status: 200,
      json: {
        ID: ctx.nodeId,
        Name: hostname(),
        ServerVersion: VERSION,
        OSType: "linux",
        OperatingSystem: "Shoal",
        Architecture: GO_ARCH[arch()] ?? arch(),
        KernelVersion: release(),
        NCPU: cpus().length,
        MemTotal: totalmem(),
        Containers: 0,
        Images: 0,
        Labels: [],
        Swarm: {
          NodeID: ctx.nodeId,
          NodeAddr: ctx.advertise.replace(/:\d+$/, ""),
          LocalNodeState: "active",
          ControlAvailable: true,
          Error: "",
          RemoteManagers: members.map((m) => ({ NodeID: m.member?.nodeId ?? "", Addr: m.member?.addr ?? "" })),
          Nodes: nodes.length,
          Managers: members.length,
          Cluster: cluster
            ? {
                ID: cluster.id,
                Version: { Index: cluster.meta?.version?.index ?? 0 },
                CreatedAt: cluster.meta?.createdAt?.toISOString(),
                UpdatedAt: (cluster.meta?.updatedAt ?? cluster.meta?.createdAt)?.toISOString(),
                Spec: {
                  Name: spec?.annotations?.name ?? "default",
                  Labels: labels,
                  Orchestration: { TaskHistoryRetentionLimit: spec?.orchestration?.taskHistoryRetentionLimit || 5 },
                  Raft: {
                    SnapshotInterval: spec?.raft?.snapshotInterval || 10_000,
                    ElectionTick: 10,
                    HeartbeatTick: 1,
                  },
                  Dispatcher: {
                    HeartbeatPeriod: heartbeat ? heartbeat.seconds * 1e9 + heartbeat.nanos : 1_000_000_000,
                  },
                  CAConfig: {},
                  TaskDefaults: {},
                  EncryptionConfig: { AutoLockManagers: false },
                },
                TLSInfo: {},
                RootRotationInProgress: false,
                DefaultAddrPool: [],
                SubnetSize: 24,
                DataPathPort: 4789,
              }
            : undefined,
        },
      },
    };
  };
}
