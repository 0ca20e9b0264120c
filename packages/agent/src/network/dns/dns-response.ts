// The replies the agent's DNS server writes itself, encoded with dns-packet: A records for a known
// name (TTL 0: a task that fails leaves the answers at once, and nobody caches them), an empty
// NOERROR for other types of a known name, and error replies. A UDP reply that would exceed what
// the client takes (512 bytes, or its EDNS payload size up to 1232) keeps the records that fit and
// sets TC, so the client asks again over TCP.
import dnsPacket, { type Answer, type DecodedPacket, type Question } from "dns-packet";

export type Transport = "udp" | "tcp";

/** Response codes (RFC 1035 4.1.1). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
} as const;
export type Rcode = (typeof Rcode)[keyof typeof Rcode];

/** Our answers live no longer than this (seconds). */
export const ANSWER_TTL = 0;

const CLASSIC_UDP_SIZE = 512;
const MAX_UDP_SIZE = 1232;
const TCP_MAX_SIZE = 65535;
const OPCODE_MASK = 0x7800;

/** The reply to `query` (one question) with A records of `addresses` (empty: NOERROR, no answer). */
export function addressReply(
  query: DecodedPacket,
  question: Question,
  addresses: readonly string[],
  transport: Transport,
): Buffer {
  const answers: Answer[] = addresses.map((data) => ({
    type: "A",
    class: "IN",
    name: question.name,
    ttl: ANSWER_TTL,
    data,
  }));
  const limit = transport === "tcp" ? TCP_MAX_SIZE : udpLimit(query);
  const full = packet(query, Rcode.NOERROR, [question], answers, true);
  if (dnsPacket.encodingLength(full) <= limit) return dnsPacket.encode(full);
  const bare = packet(query, Rcode.NOERROR, [question], [], true);
  const perRecord =
    dnsPacket.encodingLength(packet(query, Rcode.NOERROR, [question], answers.slice(0, 1), true)) -
    dnsPacket.encodingLength(bare);
  const fit = Math.max(0, Math.floor((limit - dnsPacket.encodingLength(bare)) / perRecord));
  const truncated = packet(query, Rcode.NOERROR, [question], answers.slice(0, fit), true);
  truncated.flags = (truncated.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE;
  return dnsPacket.encode(truncated);
}

/** An error reply (no answers) to `query`, echoing its questions. */
export function errorReply(query: DecodedPacket, rcode: Rcode): Buffer {
  return dnsPacket.encode(packet(query, rcode, query.questions ?? [], [], false));
}

function packet(
  query: DecodedPacket,
  rcode: Rcode,
  questions: Question[],
  answers: Answer[],
  authoritative: boolean,
): dnsPacket.Packet {
  const queryFlags = query.flags ?? 0;
  let flags = (queryFlags & OPCODE_MASK) | dnsPacket.RECURSION_AVAILABLE | rcode;
  if ((queryFlags & dnsPacket.RECURSION_DESIRED) !== 0) flags |= dnsPacket.RECURSION_DESIRED;
  if (authoritative) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
  const additionals: Answer[] =
    ednsOf(query) === undefined
      ? []
      : [
          {
            type: "OPT",
            name: ".",
            udpPayloadSize: MAX_UDP_SIZE,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ];
  return { type: "response", id: query.id ?? 0, flags, questions, answers, additionals };
}

function udpLimit(query: DecodedPacket): number {
  const size = ednsOf(query);
  return size === undefined ? CLASSIC_UDP_SIZE : Math.min(MAX_UDP_SIZE, Math.max(CLASSIC_UDP_SIZE, size));
}

/** The EDNS payload size the client offers, when it sent an OPT record. */
function ednsOf(query: DecodedPacket): number | undefined {
  for (const a of query.additionals ?? []) if (a.type === "OPT") return a.udpPayloadSize;
  return undefined;
}
