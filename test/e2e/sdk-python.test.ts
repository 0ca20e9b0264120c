// The Docker SDK for Python (docker-py, Debian's python3-docker) drives Shoal through a manager's
// Docker Engine API: the pytest suite in sdk/python runs on Debian's /usr/bin/python3 against a
// cluster of one manager and three agent hosts (one of them down), as a docker-py user points it
// at a swarm manager: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH. Any failure of the suite
// fails this test with pytest's report.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startSdkCluster, type SdkCluster } from "./support/sdk-cluster.js";

/** Debian's interpreter: the one python3-docker and python3-pytest install into. */
const PYTHON = "/usr/bin/python3";
const SUITE = fileURLToPath(new URL("./sdk/python", import.meta.url));
const PYTEST_TIMEOUT_MS = 150_000;

interface Run {
  code: number;
  output: string;
}

/**
 * This process's environment for Python, less requests' CA bundle settings: requests prefers them
 * to the CA docker-py gives it (DOCKER_CERT_PATH/ca.pem), and the manager's CA is in no bundle.
 */
function pythonEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...rest } = process.env;
  return { ...rest, ...env };
}

function run(args: string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      args,
      { cwd: SUITE, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: pythonEnv(env) },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string }) | null;
        const code = e ? (typeof e.code === "number" ? e.code : -1) : 0;
        const why = e && typeof e.code !== "number" ? `\n(${e.signal ?? e.code ?? e.message})` : "";
        resolve({ code, output: `${stdout}${stderr}${why}` });
      },
    );
  });
}

/** Fails with a message that says what to install when docker-py or pytest is missing. */
async function checkModules(): Promise<void> {
  const probe = await run(["-c", "import docker, pytest; print(docker.__version__)"], {}, 30_000);
  if (probe.code !== 0) {
    throw new Error(
      `${PYTHON} cannot import docker and pytest: install Debian's python3-docker and python3-pytest ` +
        `(bash scripts/setup.sh --test does)\n${probe.output}`,
    );
  }
}

let cluster: SdkCluster | undefined;
let home = "";

afterAll(async () => {
  await cluster?.dispose();
  if (home !== "") await rm(home, { recursive: true, force: true });
});

describe("the Docker SDK for Python against Shoal", () => {
  it("passes the docker-py suite: system, nodes, services, tasks, networks, swarm, images", async () => {
    await checkModules();
    cluster = await startSdkCluster("py");
    home = await mkdtemp(join(tmpdir(), "shoal-sdk-py-home-"));
    const env = {
      DOCKER_HOST: `tcp://${cluster.dockerApi}`,
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: cluster.certDir,
      // No credentials or settings of this machine's user.
      DOCKER_CONFIG: home,
      HOME: home,
      PYTHONDONTWRITEBYTECODE: "1",
      SHOAL_SDK_IMAGE: cluster.image,
      SHOAL_SDK_IMAGE2: cluster.image2,
      SHOAL_SDK_PULL_REF: cluster.pullRef,
      SHOAL_SDK_HOSTS: JSON.stringify(cluster.hosts),
    };
    const pytest = await run(
      [
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
        "--tb=short",
        "-rfE",
        "--color=no",
        ".",
      ],
      env,
      PYTEST_TIMEOUT_MS,
    );
    if (pytest.code !== 0) throw new Error(`pytest exited ${pytest.code}:\n${pytest.output}`);
    expect(pytest.output).toMatch(/^\d+ passed in /m);
    expect(pytest.output).not.toMatch(/skipped|xfail|deselected/);
  }, 240_000);
});
