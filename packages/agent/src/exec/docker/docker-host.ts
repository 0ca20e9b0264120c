// Where the Docker daemon is: DOCKER_HOST-style addresses turned into dockerode's options.
import { InvalidArgumentError } from "@shoal/shared";
import type { DockerOptions } from "dockerode";

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/**
 * `unix:///var/run/docker.sock`, a bare socket path (`/run/docker.sock`), or `tcp://host:port`
 * (plain HTTP; `https://host:port` for TLS with dockerode's defaults).
 */
export function dockerOptions(host: string = DEFAULT_DOCKER_HOST): DockerOptions {
  if (host.startsWith("/")) return { socketPath: host };
  let url: URL;
  try {
    url = new URL(host);
  } catch (err: unknown) {
    throw new InvalidArgumentError(`not a docker host address: ${host}`, { field: "dockerHost", cause: err });
  }
  switch (url.protocol) {
    case "unix:":
      if (url.pathname === "") break;
      return { socketPath: decodeURIComponent(url.pathname) };
    case "tcp:":
    case "http:":
    case "https:": {
      if (url.hostname === "") break;
      const protocol = url.protocol === "https:" ? "https" : "http";
      return {
        protocol,
        host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port === "" ? (protocol === "https" ? 2376 : 2375) : Number(url.port),
      };
    }
  }
  throw new InvalidArgumentError(`unsupported docker host address: ${host} (want unix:///path or tcp://host:port)`, {
    field: "dockerHost",
  });
}
