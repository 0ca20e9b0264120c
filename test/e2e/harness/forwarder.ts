// A TCP forwarder from 127.0.0.1:<ephemeral> to a target, living in the harness process. The
// outer dockerd pushes to the registry through it: Docker always treats 127.0.0.0/8 registries
// as insecure, so no daemon configuration of the outer dockerd is needed.
import { createServer, connect, type AddressInfo, type Socket } from "node:net";

export interface Forwarder {
  readonly port: number;
  close(): Promise<void>;
}

export async function forwardLoopback(targetHost: string, targetPort: number): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    const upstream = connect(targetPort, targetHost);
    for (const s of [downstream, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
