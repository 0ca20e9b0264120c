// shoal node ls | inspect
import type { Command } from "commander";
import { NodeAvailability, NodeRole, NodeState, Node, shortId } from "@shoal/shared";
import { Control, MANAGER_HELP, managerAddresses } from "../client.js";
import { formatTable, titleCase } from "../output/table.js";

export function nodeTable(nodes: readonly Node[]): string {
  const rows = [...nodes]
    .sort((a, b) => (a.description?.hostname ?? "").localeCompare(b.description?.hostname ?? ""))
    .map((n) => [
      shortId(n.id),
      n.description?.hostname ?? "",
      titleCase(NodeState[n.status?.state ?? NodeState.UNKNOWN]),
      titleCase(NodeAvailability[n.spec?.availability ?? NodeAvailability.ACTIVE]),
      n.role === NodeRole.MANAGER ? (n.managerStatus?.leader ? "Leader" : "Reachable") : "",
      n.description?.engine?.engineVersion ?? "",
    ]);
  return formatTable(["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"], rows);
}

export function registerNodeCommands(program: Command): void {
  const node = program.command("node").description("manage the cluster's nodes");
  node
    .command("ls")
    .description("list nodes")
    .option("--manager <addr>", MANAGER_HELP)
    .option("-q, --quiet", "print only ids")
    .option("--json", "print the nodes as JSON")
    .action(async (opts: { manager?: string; quiet?: boolean; json?: boolean }) => {
      const control = new Control(managerAddresses(opts.manager));
      try {
        const { nodes } = await control.call("listNodes", { filters: undefined });
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify(
              nodes.map((n) => Node.toJSON(n)),
              null,
              2,
            )}\n`,
          );
        else if (opts.quiet) process.stdout.write(nodes.map((n) => `${n.id}\n`).join(""));
        else process.stdout.write(nodeTable(nodes));
      } finally {
        control.close();
      }
    });
  node
    .command("inspect")
    .description("show one or more nodes as JSON")
    .argument("<node...>", "node id, id prefix or hostname")
    .option("--manager <addr>", MANAGER_HELP)
    .action(async (refs: string[], opts: { manager?: string }) => {
      const control = new Control(managerAddresses(opts.manager));
      try {
        const nodes = [];
        for (const ref of refs) nodes.push(Node.toJSON((await control.call("getNode", { nodeId: ref })).node!));
        process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`);
      } finally {
        control.close();
      }
    });
}
