// The cluster the Docker SDK suites drive: one manager serving the Docker Engine API, agents on
// three harness hosts (each with its own dockerd), the agent of the last one stopped so that its
// node is down (and can be removed), and images in the harness registry: a second tag of the
// base image for updates, and one that no host has pulled yet, for pulls.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeState } from "@shoal/shared";
import { createHarness, type Harness, type Host, type HostProcess } from "../harness/index.js";
import { startAgents } from "./agents.js";
import { TestControl, testClientCertDir } from "./control-client.js";
import { dockerApiAddress } from "./docker-api.js";
import { joinTokens } from "./join-tokens.js";
import { startManagerCluster } from "./manager-cluster.js";
import { freePort, type ShoalProcess } from "./shoal-process.js";
import { waitUntil } from "./wait.js";

export interface SdkHost {
  readonly name: string;
  readonly address: string;
  /** `unix://...` of the host's own dockerd. */
  readonly docker: string;
  /** "ready", or "down" for the host whose agent was stopped. */
  readonly state: "ready" | "down";
}

export interface SdkCluster {
  readonly harness: Harness;
  /** HOST:PORT of the manager's Docker Engine API (HTTPS, client certificate required). */
  readonly dockerApi: string;
  /** The admin client certificate directory (ca.pem, cert.pem, key.pem): DOCKER_CERT_PATH. */
  readonly certDir: string;
  /** The base image as hosts pull it (every host has it). */
  readonly image: string;
  /** Another tag of the same image in the registry. */
  readonly image2: string;
  /** A tag in the registry that no host has pulled. */
  readonly pullRef: string;
  readonly hosts: readonly SdkHost[];
  /** Where manager and agents log. */
  readonly root: string;
  dispose(): Promise<void>;
}

const NODE_DOWN_TIMEOUT_MS = 20_000;

/** Starts the cluster; `name` tells the suites' registry tags and directories apart. */
export async function startSdkCluster(name: string): Promise<SdkCluster> {
  const control = new TestControl();
  const root = await mkdtemp(join(tmpdir(), `shoal-sdk-${name}-`));
  let harness: Harness | undefined;
  let manager: ShoalProcess | undefined;
  const dispose = async (): Promise<void> => {
    control.close();
    await manager?.kill("SIGKILL");
    await harness?.dispose();
    if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
  };
  try {
    harness = await createHarness({ hosts: ["h1", "h2", "h3"], pullBaseImage: true });
    const h = harness;
    const image2 = await h.pushImage("shoal-base:1", "shoal-base:2");
    const pullRef = await h.pushImage("shoal-base:1", `shoal-sdk-${name}:1`);
    const addr = `${h.gateway}:${await freePort()}`;
    const [m] = await startManagerCluster({
      count: 1,
      root,
      control,
      addr: () => addr,
      args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
    });
    manager = m!.proc;
    const dockerApi = await dockerApiAddress(join(root, "m0.log"));
    const token = (await joinTokens(control, addr)).worker;
    const agents = await startAgents(h.hosts, { control, managers: [addr], token });
    const downHost = h.hosts[h.hosts.length - 1]!;
    await stopAgent(agents[agents.length - 1]!, downHost, control, addr);
    return {
      harness: h,
      dockerApi,
      certDir: testClientCertDir(),
      image: h.baseImage,
      image2,
      pullRef,
      hosts: h.hosts.map((host) => sdkHost(host, host === downHost ? "down" : "ready")),
      root,
      dispose,
    };
  } catch (err: unknown) {
    await dispose().catch(() => undefined);
    throw err;
  }
}

function sdkHost(host: Host, state: SdkHost["state"]): SdkHost {
  return { name: host.name, address: host.address, docker: host.dockerHost, state };
}

/** Kills the agent on `host` and waits until the manager lists its node as down. */
async function stopAgent(agent: HostProcess, host: Host, control: TestControl, addr: string): Promise<void> {
  agent.kill("SIGKILL");
  await agent.exited;
  await waitUntil(
    `node ${host.name} down`,
    async () => {
      const nodes = await control.listNodes(addr, undefined, 3000);
      return nodes.some((n) => n.description?.hostname === host.name && n.status?.state === NodeState.DOWN);
    },
    NODE_DOWN_TIMEOUT_MS,
  );
}
