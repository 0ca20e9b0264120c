// GET|HEAD /_ping, GET /version, GET /info: version negotiation, and the fields the docker CLI
// prints and SDKs read, with Docker 20.10's names and types. The swarm section is the cluster's
// (ControlAvailable for stack deploy, NodeID for the `*` of node ls, the cluster as GET /swarm
// shows it). The engine fields describe the manager's host: a manager runs no containers, has no
// images, storage driver, runtimes or plugins, so those are zero, empty or false, and one warning
// says why (with none, the CLI would print a warning for each false capability).
import { cpus, hostname, release, totalmem } from "node:os";
import { NodeRole, VERSION } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { allNodes } from "./control-calls.js";
import { goArch, kernelArch, openFileCount, readOsRelease } from "./host.js";
import { DEFAULT_MANAGER_SETTINGS } from "./manager-settings.js";
import { API_VERSION, MIN_API_VERSION, type Handler } from "./router.js";
import { toDockerClusterInfo } from "./swarm-view.js";

/** The one line `docker info` prints under WARNING. */
export const INFO_WARNING =
  "WARNING: this is a Shoal manager, not a Docker Engine: it runs no containers itself " +
  "(its agents' Docker Engines do), so its engine fields are empty";

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
    Arch: goArch(),
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
      GitCommit: details.GitCommit,
      GoVersion: details.GoVersion,
      Os: details.Os,
      Arch: details.Arch,
      KernelVersion: details.KernelVersion,
      BuildTime: details.BuildTime,
    },
  };
};

/** The engine fields of /info: the manager's host, and nothing of what a manager does not have. */
async function engineInfo(ctx: DockerApiContext): Promise<Record<string, unknown>> {
  const [os, nfd] = await Promise.all([readOsRelease(), openFileCount()]);
  const commit = { ID: "", Expected: "" };
  return {
    ID: ctx.nodeId,
    Containers: 0,
    ContainersRunning: 0,
    ContainersPaused: 0,
    ContainersStopped: 0,
    Images: 0,
    Driver: "",
    DriverStatus: [],
    Plugins: { Volume: [], Network: [], Authorization: null, Log: [] },
    MemoryLimit: false,
    SwapLimit: false,
    KernelMemory: false,
    KernelMemoryTCP: false,
    CpuCfsPeriod: false,
    CpuCfsQuota: false,
    CPUShares: false,
    CPUSet: false,
    PidsLimit: false,
    IPv4Forwarding: false,
    BridgeNfIptables: false,
    BridgeNfIp6tables: false,
    Debug: false,
    NFd: nfd,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date(ctx.clock.now()).toISOString(),
    LoggingDriver: "",
    CgroupDriver: "",
    CgroupVersion: "",
    NEventsListener: 0,
    KernelVersion: release(),
    OperatingSystem: os.prettyName || "Linux",
    OSVersion: os.versionId,
    OSType: "linux",
    Architecture: kernelArch(),
    IndexServerAddress: "https://index.docker.io/v1/",
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [],
      AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: [],
      IndexConfigs: { "docker.io": { Name: "docker.io", Mirrors: [], Secure: true, Official: true } },
      Mirrors: [],
    },
    NCPU: cpus().length,
    MemTotal: totalmem(),
    GenericResources: null,
    DockerRootDir: "",
    HttpProxy: "",
    HttpsProxy: "",
    NoProxy: "",
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: VERSION,
    Runtimes: {},
    DefaultRuntime: "",
    LiveRestoreEnabled: false,
    Isolation: "",
    InitBinary: "",
    ContainerdCommit: commit,
    RuncCommit: commit,
    InitCommit: commit,
    SecurityOptions: [],
    Warnings: [INFO_WARNING],
  };
}

export function info(ctx: DockerApiContext): Handler {
  const settings = ctx.settings ?? DEFAULT_MANAGER_SETTINGS;
  return async () => {
    const [engine, status, nodes, { clusters }] = await Promise.all([
      engineInfo(ctx),
      ctx.control.call("getInfo", {}),
      allNodes(ctx.control),
      ctx.control.call("listClusters", {}),
    ]);
    const cluster = clusters[0];
    const members = status.raft?.members ?? [];
    return {
      status: 200,
      json: {
        ...engine,
        Swarm: {
          NodeID: ctx.nodeId,
          NodeAddr: ctx.advertise.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1"),
          LocalNodeState: "active",
          ControlAvailable: true,
          Error: "",
          RemoteManagers: members.map((m) => ({ NodeID: m.member?.nodeId ?? "", Addr: m.member?.addr ?? "" })),
          // Docker's rule: the nodes `docker node ls` lists, and the managers among them (each
          // manager of the Raft group is a node).
          Nodes: nodes.length,
          Managers: nodes.filter((n) => n.role === NodeRole.MANAGER).length,
          ...(cluster ? { Cluster: toDockerClusterInfo(cluster, settings) } : {}),
        },
      },
    };
  };
}
