import { describe, expect, it } from "vitest";
import { RaftMembershipService, RaftTransportService, silentLogger, type TlsMaterial } from "@shoal/shared";
import { RaftServices } from "../../../src/state/raft/raft-services.js";

type Handler = (call: unknown, callback: (err: unknown, res?: unknown) => void) => void;

function setup(): { added: Map<unknown, Record<string, Handler>>; services: RaftServices } {
  const added = new Map<unknown, Record<string, Handler>>();
  const services = new RaftServices({
    server: { addService: (def, impl) => void added.set(def, impl as unknown as Record<string, Handler>) },
    raft: { node: undefined },
    credentials: { material: {} as TlsMaterial },
    logger: silentLogger(),
  });
  return { added, services };
}

const call = (handler: Handler, request: unknown): Promise<{ err: unknown; res: unknown }> =>
  new Promise((resolve) => handler({ request }, (err, res) => resolve({ err, res })));

describe("RaftServices", () => {
  it("serves RaftTransport and RaftMembership", async () => {
    const { added, services } = setup();
    await services.run();
    expect([...added.keys()]).toEqual([RaftTransportService, RaftMembershipService]);
  });

  it("copes with no Raft node yet: messages are dropped, addresses not found", async () => {
    const { added, services } = setup();
    await services.run();
    const transport = added.get(RaftTransportService)!;
    await expect(call(transport["processRaftMessage"]!, { message: undefined })).resolves.toEqual({
      err: null,
      res: {},
    });
    const { err } = await call(transport["resolveAddress"]!, { raftId: 5 });
    expect(err).toMatchObject({ code: 5 }); // NOT_FOUND
  });

  it("stops idempotently, also without having run", async () => {
    setup().services.stop();
    const { services } = setup();
    await services.run();
    services.stop();
    services.stop();
  });
});
