// The run's image registry: Debian's docker-registry (distribution 2.8) serving plain HTTP on the
// gateway address (the initial namespace's end of the test network), storage in the run's
// directory. Images are pushed by the outer dockerd through a loopback forwarder.
import { spawn } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { runCommand } from "./command.js";
import { tail } from "./dockerd.js";
import { HarnessError } from "./errors.js";
import { forwardLoopback } from "./forwarder.js";
import type { Tools } from "./prerequisites.js";
import { processRef, type ProcessRef } from "./processes.js";

export const REGISTRY_PORT = 5000;

export interface RegistrySpec {
  readonly tools: Tools;
  /** Directory for the configuration, storage and log. */
  readonly dir: string;
  readonly address: string;
  readonly port: number;
}

/** Starts the registry; resolves with its process once its port accepts connections. */
export async function startRegistry(spec: RegistrySpec, timeoutMs = 15_000): Promise<ProcessRef> {
  const config = join(spec.dir, "registry.yml");
  const logFile = join(spec.dir, "registry.log");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(spec.dir, "storage")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${spec.address}:${spec.port}`,
      `  secret: shoal-test-${Date.now()}`,
      "",
    ].join("\n"),
  );
  const log = openSync(logFile, "a");
  const child = (() => {
    try {
      return spawn(spec.tools.dockerRegistry, ["serve", config], { stdio: ["ignore", log, log] });
    } finally {
      closeSync(log);
    }
  })();
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const ref = child.pid === undefined ? undefined : processRef(child.pid);
  if (ref === undefined) throw new HarnessError("REGISTRY_FAILED", `docker-registry did not start: ${tail(logFile)}`);
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(spec.address, spec.port))) {
    if (exited || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new HarnessError(
        "REGISTRY_FAILED",
        `docker-registry on ${spec.address}:${spec.port} not up:\n${tail(logFile)}`,
      );
    }
    await sleep(50);
  }
  return ref;
}

/**
 * Pushes `localTag` from the outer dockerd into the registry as `repository` (default: the same
 * name and tag) and returns the reference hosts pull: `ADDR:PORT/repository`.
 */
export async function pushImage(
  tools: Tools,
  registry: { readonly address: string; readonly port: number },
  localTag: string,
  repository: string = localTag,
): Promise<string> {
  const forwarder = await forwardLoopback(registry.address, registry.port);
  const viaLoopback = `127.0.0.1:${forwarder.port}/${repository}`;
  try {
    await runCommand(tools.docker, ["tag", localTag, viaLoopback]);
    await runCommand(tools.docker, ["push", "--quiet", viaLoopback], { timeoutMs: 120_000 });
  } finally {
    await runCommand(tools.docker, ["rmi", viaLoopback], { check: false });
    await forwarder.close();
  }
  return `${registry.address}:${registry.port}/${repository}`;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}
