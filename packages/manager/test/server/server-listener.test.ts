import { describe, expect, it } from "vitest";
import { ErrorCode, type TlsMaterial } from "@shoal/shared";
import { ServerListener } from "../../src/server/server-listener.js";

const server = (bound: string) => ({ bind: () => Promise.resolve(bound) });
const credentials = { material: {} as TlsMaterial };

describe("ServerListener", () => {
  it("advertises the bound address by default", async () => {
    const listener = new ServerListener({ server: server("127.0.0.1:4321"), listen: "127.0.0.1:0", credentials });
    expect(listener.address).toBe("");
    expect(() => listener.advertise).toThrow(/does not listen yet/);
    await listener.run();
    expect(listener.address).toBe("127.0.0.1:4321");
    expect(listener.advertise).toBe("127.0.0.1:4321");
  });

  it("advertises --advertise when given", async () => {
    const listener = new ServerListener({
      server: server("0.0.0.0:4242"),
      listen: "0.0.0.0:4242",
      advertise: "10.0.0.5:4242",
      credentials,
    });
    await listener.run();
    expect(listener.advertise).toBe("10.0.0.5:4242");
  });

  it("needs --advertise when listening on a wildcard address", async () => {
    for (const bound of ["0.0.0.0:4242", "[::]:4242"]) {
      const listener = new ServerListener({ server: server(bound), listen: bound, credentials });
      await expect(listener.run()).rejects.toMatchObject({
        code: ErrorCode.InvalidArgument,
        message: `--advertise is needed: ${bound} is not an address other managers can reach`,
      });
    }
  });
});
