// shoal node ls | inspect | update | rm
import type { Command } from "commander";
import {
  InvalidArgumentError,
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  Reachability,
  shortId,
} from "@shoal/shared";
import { MANAGER_HELP, withControl } from "../client.js";
import { nodeJson } from "../output/json.js";
import { formatTable, titleCase } from "../output/table.js";
import { collect, keyValues } from "./service-spec.js";
import { allNodes } from "../list.js";

/** The MANAGER STATUS column, as `docker node ls` shows it: Leader, Reachable, Unreachable or blank. */
export function managerStatusText(node: Node): string {
  const m = node.managerStatus;
  if (!m) return "";
  if (m.leader) return "Leader";
  if (m.reachability === Reachability.REACHABLE) return "Reachable";
  if (m.reachability === Reachability.UNREACHABLE) return "Unreachable";
  return "Unknown";
}

export function nodeTable(nodes: readonly Node[]): string {
  const rows = [...nodes]
    .sort((a, b) => (a.description?.hostname ?? "").localeCompare(b.description?.hostname ?? ""))
    .map((n) => [
      shortId(n.id),
      n.description?.hostname ?? "",
      titleCase(NodeState[n.status?.state ?? NodeState.UNKNOWN]),
      titleCase(NodeAvailability[n.spec?.availability ?? NodeAvailability.ACTIVE]),
      managerStatusText(n),
      n.description?.engine?.engineVersion ?? "",
    ]);
  return formatTable(["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"], rows);
}

const AVAILABILITY: Record<string, NodeAvailability> = {
  active: NodeAvailability.ACTIVE,
  pause: NodeAvailability.PAUSE,
  drain: NodeAvailability.DRAIN,
};

export function registerNodeCommands(program: Command): void {
  const node = program.command("node").description("manage the cluster's nodes");
  node
    .command("ls")
    .description("list nodes")
    .option("--manager <addrs>", MANAGER_HELP)
    .option("-q, --quiet", "print only ids")
    .option("--json", "print the nodes as JSON")
    .action(async (opts: { manager?: string; quiet?: boolean; json?: boolean }) => {
      const nodes = await withControl(opts.manager, (c) => allNodes(c));
      if (opts.json) process.stdout.write(`${JSON.stringify(nodes.map(nodeJson), null, 2)}\n`);
      else if (opts.quiet) process.stdout.write(nodes.map((n) => `${n.id}\n`).join(""));
      else process.stdout.write(nodeTable(nodes));
    });
  node
    .command("inspect")
    .description("show one or more nodes as JSON")
    .argument("<node...>", "node id, id prefix or hostname")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], opts: { manager?: string }) => {
      const out = await withControl(opts.manager, async (c) => {
        const nodes = [];
        for (const ref of refs) nodes.push(Node.toJSON((await c.call("getNode", { nodeId: ref })).node!));
        return nodes;
      });
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
  node
    .command("update")
    .description("change a node's availability or labels")
    .argument("<node>", "node id, id prefix or hostname")
    .option("--availability <a>", "active, pause or drain")
    .option("--label-add <k=v>", "add or change a label (repeatable)", collect, [])
    .option("--label-rm <k>", "remove a label (repeatable)", collect, [])
    .option("--manager <addrs>", MANAGER_HELP)
    .action(
      async (ref: string, opts: { availability?: string; labelAdd: string[]; labelRm: string[]; manager?: string }) => {
        let availability: NodeAvailability | undefined;
        if (opts.availability !== undefined) {
          availability = AVAILABILITY[opts.availability];
          if (availability === undefined) {
            throw new InvalidArgumentError(`"${opts.availability}" is not active, pause or drain`, {
              field: "--availability",
            });
          }
        }
        const add = keyValues(opts.labelAdd, "--label-add");
        await withControl(opts.manager, async (c) => {
          const { node: current } = await c.call("getNode", { nodeId: ref });
          const spec = current!.spec ?? {
            annotations: undefined,
            desiredRole: current!.role,
            availability: NodeAvailability.ACTIVE,
          };
          const labels = { ...(spec.annotations?.labels ?? {}), ...add };
          for (const k of opts.labelRm) {
            if (!(k in labels)) throw new InvalidArgumentError(`node has no label "${k}"`, { field: "--label-rm" });
            delete labels[k];
          }
          await c.call("updateNode", {
            nodeId: current!.id,
            nodeVersion: current!.meta?.version,
            spec: {
              ...spec,
              annotations: { name: spec.annotations?.name ?? "", labels },
              availability: availability ?? spec.availability,
            },
          });
        });
        process.stdout.write(`${ref}\n`);
      },
    );
  for (const [verb, role] of [
    ["promote", NodeRole.MANAGER],
    ["demote", NodeRole.WORKER],
  ] as const) {
    node
      .command(verb)
      .description(
        role === NodeRole.MANAGER
          ? "make nodes managers (their desired role)"
          : "make managers workers: each leaves the Raft group (refused when that would lose quorum) and keeps its tasks",
      )
      .argument("<node...>", "node id, id prefix or hostname")
      .option("--manager <addrs>", MANAGER_HELP)
      .action(async (refs: string[], opts: { manager?: string }) => {
        await withControl(opts.manager, async (c) => {
          for (const ref of refs) {
            const { node: current } = await c.call("getNode", { nodeId: ref });
            const spec = current!.spec!;
            const name = current!.description?.hostname || current!.id;
            if ((spec.desiredRole ?? current!.role) === role) {
              process.stdout.write(`Node ${name} is already a ${role === NodeRole.MANAGER ? "manager" : "worker"}.\n`);
              continue;
            }
            await c.call("updateNode", {
              nodeId: current!.id,
              nodeVersion: current!.meta?.version,
              spec: { ...spec, desiredRole: role },
            });
            process.stdout.write(
              `Node ${name} ${role === NodeRole.MANAGER ? "promoted to a manager" : "demoted to a worker"} in the swarm.\n`,
            );
          }
        });
      });
  }
  node
    .command("rm")
    .description("remove nodes that are down (--force: also nodes that are up)")
    .argument("<node...>", "node id, id prefix or hostname")
    .option("-f, --force", "remove even if the node is up")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], opts: { force?: boolean; manager?: string }) => {
      await withControl(opts.manager, async (c) => {
        for (const ref of refs) {
          await c.call("removeNode", { nodeId: ref, force: opts.force === true });
          process.stdout.write(`${ref}\n`);
        }
      });
    });
}
