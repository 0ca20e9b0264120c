import dnsPacket, { type DecodedPacket } from "dns-packet";
import { describe, expect, it } from "vitest";
import { addressReply, errorReply, Rcode } from "../../../src/network/dns/dns-response.js";

function decodedQuery(packet: dnsPacket.Packet): DecodedPacket {
  return dnsPacket.decode(dnsPacket.encode({ type: "query", id: 9, flags: dnsPacket.RECURSION_DESIRED, ...packet }));
}

const question = { type: "A" as const, class: "IN" as const, name: "api" };
const many = Array.from({ length: 100 }, (_, i) => `10.0.0.${i + 1}`);

describe("addressReply", () => {
  it("answers with A records of TTL 0, echoing the id, the question and RD", () => {
    const reply = dnsPacket.decode(
      addressReply(decodedQuery({ questions: [question] }), question, ["10.0.0.1"], "udp"),
    );
    expect(reply).toMatchObject({
      id: 9,
      type: "response",
      flag_aa: true,
      flag_rd: true,
      flag_ra: true,
      rcode: "NOERROR",
    });
    expect(reply.questions).toEqual([question]);
    expect(reply.answers).toEqual([{ type: "A", class: "IN", name: "api", ttl: 0, flush: false, data: "10.0.0.1" }]);
  });

  it("keeps a UDP reply within 512 bytes and sets TC", () => {
    const raw = addressReply(decodedQuery({ questions: [question] }), question, many, "udp");
    expect(raw.length).toBeLessThanOrEqual(512);
    const reply = dnsPacket.decode(raw);
    expect(reply.flag_tc).toBe(true);
    expect(reply.answers?.length).toBeGreaterThan(20);
  });

  it("takes the client's EDNS size, up to 1232 bytes, and answers with OPT", () => {
    const query = decodedQuery({
      questions: [question],
      additionals: [
        {
          type: "OPT",
          name: ".",
          udpPayloadSize: 4096,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ],
    });
    const raw = addressReply(query, question, many, "udp");
    expect(raw.length).toBeGreaterThan(512);
    expect(raw.length).toBeLessThanOrEqual(1232);
    const reply = dnsPacket.decode(raw);
    expect(reply.flag_tc).toBe(true);
    expect(reply.additionals?.[0]).toMatchObject({ type: "OPT", udpPayloadSize: 1232 });
  });

  it("gives every record over TCP", () => {
    const reply = dnsPacket.decode(addressReply(decodedQuery({ questions: [question] }), question, many, "tcp"));
    expect(reply.flag_tc).toBe(false);
    expect(reply.answers).toHaveLength(100);
  });
});

describe("errorReply", () => {
  it("gives the code with the questions and no answer", () => {
    const reply = dnsPacket.decode(errorReply(decodedQuery({ questions: [question] }), Rcode.SERVFAIL));
    expect(reply).toMatchObject({ id: 9, type: "response", rcode: "SERVFAIL", flag_aa: false });
    expect(reply.questions).toEqual([question]);
    expect(reply.answers).toEqual([]);
  });
});
