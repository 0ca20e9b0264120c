// The stock docker CLI pointed at a manager's Docker Engine API (mutual TLS with the test's client
// certificate), for tests that drive Shoal as a Swarm user would.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { testClientCertDir } from "./control-client.js";

export const DOCKER_BIN = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DockerCli {
  /** Runs `docker ARGS`; never throws (the exit code is in the result). */
  run(args: readonly string[], options?: { env?: Record<string, string>; cwd?: string }): Promise<CliResult>;
  /** Runs `docker ARGS` and gives its stdout; throws with stderr when it exits other than 0. */
  ok(args: readonly string[], options?: { env?: Record<string, string>; cwd?: string }): Promise<string>;
}

/** The docker CLI for the Docker API at `dockerHost` (tcp://ADDR), with its config in `configDir`. */
export function dockerCli(dockerHost: string, configDir: string, timeoutMs = 120_000): DockerCli {
  const run: DockerCli["run"] = (args, options = {}) =>
    new Promise((resolve) => {
      const env = {
        ...process.env,
        DOCKER_HOST: dockerHost,
        DOCKER_CONFIG: configDir,
        DOCKER_TLS_VERIFY: "1",
        DOCKER_CERT_PATH: testClientCertDir(),
        ...options.env,
      };
      execFile(DOCKER_BIN, [...args], { timeout: timeoutMs, env, cwd: options.cwd }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  return {
    run,
    async ok(args, options) {
      const r = await run(args, options);
      if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
  };
}
