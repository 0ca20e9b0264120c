import dgram from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "@shoal/shared";
import { parseNameservers, Upstream } from "../../../src/network/dns/upstream.js";
import { encodeQuery } from "./dns-client.js";

describe("parseNameservers", () => {
  it("gives the nameserver addresses in order, skipping comments, options and bad lines", () => {
    const text = [
      "# generated",
      "search example.com",
      "nameserver 10.0.0.2",
      "  nameserver   192.168.1.1  # home",
      "nameserver not-an-address",
      "nameserver fe80::1%eth0",
      "; nameserver 10.9.9.9",
      "options ndots:2",
      "nameserver",
    ].join("\n");
    expect(parseNameservers(text)).toEqual(["10.0.0.2", "192.168.1.1", "fe80::1"]);
  });
});

const sockets: dgram.Socket[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function udpServer(
  address: string,
  port: number,
  onMessage: (socket: dgram.Socket, m: Buffer, r: dgram.RemoteInfo) => void,
): Promise<number> {
  const socket = dgram.createSocket("udp4");
  sockets.push(socket);
  socket.on("message", (m, r) => onMessage(socket, m, r));
  await new Promise<void>((r) => socket.bind({ address, port }, () => r()));
  return socket.address().port;
}

function upstream(servers: string[], port: number, timeoutMs = 400): Upstream {
  const dir = mkdtempSync(join(tmpdir(), "shoal-upstream-"));
  const path = join(dir, "resolv.conf");
  writeFileSync(path, servers.map((s) => `nameserver ${s}\n`).join(""));
  return new Upstream({ resolvConfPath: path, port, timeoutMs, clock: systemClock, logger: silentLogger() });
}

describe("Upstream", () => {
  it("tries the next resolver when one is silent, within the deadline", async () => {
    // Both resolvers on one port: 127.0.0.31 says nothing, 127.0.0.32 echoes the query back.
    const port = await udpServer("127.0.0.31", 0, () => undefined);
    await udpServer("127.0.0.32", port, (s, m, r) => s.send(m, r.port, r.address));
    const query = encodeQuery("example.com", { id: 31 });
    const started = Date.now();
    const reply = await upstream(["127.0.0.31", "127.0.0.32"], port).forward(query, "udp");
    expect(reply).toEqual(query);
    // The silent one had half of the 400 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });

  it("ignores a reply with another id", async () => {
    const port = await udpServer("127.0.0.33", 0, (s, m, r) => {
      const wrong = Buffer.from(m);
      wrong.writeUInt16BE(m.readUInt16BE(0) + 1);
      s.send(wrong, r.port, r.address);
    });
    expect(await upstream(["127.0.0.33"], port, 200).forward(encodeQuery("example.com"), "udp")).toBeUndefined();
  });

  it("gives nothing without a resolver", async () => {
    expect(await upstream([], 53).forward(encodeQuery("example.com"), "udp")).toBeUndefined();
  });
});
