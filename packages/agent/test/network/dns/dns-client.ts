// A small DNS client for the tests: one query over UDP or TCP from a chosen source address.
import dgram from "node:dgram";
import net from "node:net";
import dnsPacket, { type DecodedPacket, type RecordType } from "dns-packet";
import { FrameReader, frame } from "../../../src/network/dns/tcp-frames.js";

export interface Target {
  address: string;
  port: number;
}

export interface QueryOptions {
  type?: RecordType;
  source?: string;
  tcp?: boolean;
  id?: number;
}

export function encodeQuery(name: string, options: QueryOptions = {}): Buffer {
  return dnsPacket.encode({
    type: "query",
    id: options.id ?? 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: options.type ?? "A", class: "IN", name }],
  });
}

export async function query(target: Target, name: string, options: QueryOptions = {}): Promise<DecodedPacket> {
  const message = encodeQuery(name, options);
  const raw =
    options.tcp === true
      ? await sendTcp(target, message, options.source)
      : await sendUdp(target, message, options.source);
  return dnsPacket.decode(raw);
}

/** Sends `message` over UDP; the reply, or a rejection after `ms`. */
export function sendUdp(target: Target, message: Buffer, source = "127.0.0.1", ms = 3000): Promise<Buffer> {
  const socket = dgram.createSocket("udp4");
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no UDP reply in ${ms} ms`));
    }, ms);
    socket.on("message", (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.bind({ address: source, port: 0 }, () => socket.send(message, target.port, target.address));
  });
}

export function sendTcp(target: Target, message: Buffer, source = "127.0.0.1", ms = 3000): Promise<Buffer> {
  const socket = net.connect({ host: target.address, port: target.port, localAddress: source });
  const reader = new FrameReader();
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP reply in ${ms} ms`));
    }, ms);
    socket.on("error", reject);
    socket.on("connect", () => socket.write(frame(message)));
    socket.on("data", (chunk) => {
      const [reply] = reader.push(chunk);
      if (reply === undefined) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    });
  });
}

/** The A records' addresses of a reply, sorted. */
export function addresses(reply: DecodedPacket): string[] {
  return (reply.answers ?? []).flatMap((a) => (a.type === "A" ? [a.data] : [])).sort();
}

/** The reply's response code (its flags' low four bits). */
export function rcodeOf(reply: DecodedPacket): number {
  return (reply.flags ?? 0) & 0xf;
}
