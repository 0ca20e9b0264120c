import { describe, expect, it } from "vitest";
import { desiredNetwork } from "../../../src/network/dataplane/desired.js";
import {
  currentFdb,
  currentHostAddresses,
  currentNeighbours,
  currentRoutes,
  networkCommands,
} from "../../../src/network/dataplane/diff.js";
import { stateOfA } from "./fixtures.js";

const EMPTY = { routes: [], neighbours: new Map<string, string>(), fdb: [], bridgeAddresses: [] };

describe("parsing iproute2's JSON", () => {
  it("reads host routes, neighbours, FDB entries with a destination and /32 addresses", () => {
    expect(currentRoutes('[{"dst":"10.0.1.3","scope":"link"},{"dst":"10.0.2.0/24"}]')).toEqual(["10.0.1.3"]);
    expect(currentRoutes("")).toEqual([]);
    const neigh = currentNeighbours('[{"dst":"10.0.1.3","lladdr":"02:5E:C0:00:02:0C","state":["PERMANENT"]}]');
    expect([...neigh]).toEqual([["10.0.1.3", "02:5e:c0:00:02:0c"]]);
    const fdb = currentFdb(
      '[{"mac":"02:5e:c0:00:02:0c","dst":"192.0.2.12","flags":["self"]},{"mac":"33:33:00:00:00:01","flags":["self"]}]',
    );
    expect(fdb).toEqual([{ mac: "02:5e:c0:00:02:0c", dst: "192.0.2.12" }]);
    const addr =
      '[{"ifname":"shb4097","addr_info":[{"family":"inet","local":"10.0.1.1","prefixlen":24},' +
      '{"family":"inet","local":"10.0.1.100","prefixlen":32},{"family":"inet6","local":"fe80::1","prefixlen":64}]}]';
    expect(currentHostAddresses(addr)).toEqual(["10.0.1.100"]);
  });
});

describe("networkCommands", () => {
  it("writes every wanted entry with replace on an empty host", () => {
    const cmds = networkCommands(desiredNetwork(stateOfA()), EMPTY);
    expect(cmds.bridge).toEqual(["fdb replace 02:5e:c0:00:02:0c dev shv4097 dst 192.0.2.12 self permanent"]);
    expect(cmds.ip).toEqual([
      "neigh replace 10.0.1.3 lladdr 02:5e:c0:00:02:0c dev shv4097 nud permanent",
      "route replace 10.0.1.3/32 dev shv4097",
      "addr replace 10.0.1.100/32 dev shb4097 noprefixroute",
    ]);
  });

  it("deletes what is no longer wanted first, and leaves the gateway alone", () => {
    const cmds = networkCommands(desiredNetwork(stateOfA({ services: [] })), {
      routes: ["10.0.1.3", "10.0.1.7"],
      neighbours: new Map([
        ["10.0.1.3", "02:5e:c0:00:02:0c"],
        ["10.0.1.7", "02:5e:c0:00:02:0d"],
      ]),
      fdb: [
        { mac: "02:5e:c0:00:02:0c", dst: "192.0.2.99" },
        { mac: "02:5e:c0:00:02:0d", dst: "192.0.2.13" },
      ],
      bridgeAddresses: ["10.0.1.100"],
    });
    expect(cmds.ip.slice(0, 3)).toEqual([
      "route del 10.0.1.7/32 dev shv4097",
      "neigh del 10.0.1.7 dev shv4097",
      "addr del 10.0.1.100/32 dev shb4097",
    ]);
    expect(cmds.bridge).toEqual([
      "fdb del 02:5e:c0:00:02:0c dev shv4097 dst 192.0.2.99 self",
      "fdb del 02:5e:c0:00:02:0d dev shv4097 dst 192.0.2.13 self",
      "fdb replace 02:5e:c0:00:02:0c dev shv4097 dst 192.0.2.12 self permanent",
    ]);
    expect(cmds.ip.some((l) => l.includes("10.0.1.1/") || l.includes("10.0.1.1 "))).toBe(false);
  });
});
