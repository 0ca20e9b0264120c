// shoal cluster status | join-token | remove-manager (client-cert and update: cluster-ca.ts)
import type { Command } from "commander";
import {
  ErrorCode,
  GetInfoResponse,
  RaftMembershipClient,
  Reachability,
  ShoalError,
  shortId,
  unaryCall,
  type RaftMemberStatus,
} from "@shoal/shared";
import { Control, MANAGER_HELP, managerAddresses } from "../client.js";
import { clientTls } from "../tls.js";
import { formatTable, titleCase } from "../output/table.js";
import { registerClusterCaCommands } from "./cluster-ca.js";
import { registerRootCaCommand } from "./root-ca.js";

const hex = (n: number): string => n.toString(16);

export function clusterStatusText(info: GetInfoResponse): string {
  const raft = info.raft;
  const members = [...(raft?.members ?? [])].sort((a, b) => (a.member?.addr ?? "").localeCompare(b.member?.addr ?? ""));
  const rows = members.map((m: RaftMemberStatus) => [
    hex(m.member?.raftId ?? 0),
    shortId(m.member?.nodeId ?? ""),
    m.member?.addr ?? "",
    m.leader ? "leader" : "follower",
    titleCase(Reachability[m.reachability]),
    m.leader || !info.isLeader ? "" : String(m.matchIndex),
  ]);
  const head =
    `Cluster: ${info.clusterId || "(not yet known)"}\n` +
    `Answered by: ${hex(raft?.raftId ?? 0)} (${info.isLeader ? "leader" : "follower"}), leader at ${info.leaderAddr || "(none)"}\n` +
    `Raft: term ${raft?.term ?? 0}, commit ${raft?.commitIndex ?? 0}, applied ${raft?.appliedIndex ?? 0}\n\n`;
  return head + formatTable(["RAFT ID", "NODE ID", "ADDRESS", "ROLE", "REACHABILITY", "MATCH"], rows);
}

export function registerClusterCommands(program: Command): void {
  const cluster = program.command("cluster").description("the cluster's managers and state");
  registerClusterCaCommands(cluster);
  registerRootCaCommand(cluster);
  cluster
    .command("status")
    .description("members of the raft group with their role and reachability, and the raft term and indexes")
    .option("--json", "print as JSON")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: { json?: boolean; manager?: string }) => {
      const control = new Control(managerAddresses(flags.manager));
      try {
        let info = await control.call("getInfo", {});
        // Reachability is known to the leader: ask it when we can.
        if (!info.isLeader && info.leaderAddr) {
          const leader = new Control(info.leaderAddr);
          info = await leader.call("getInfo", {}).catch(() => info);
          leader.close();
        }
        if (flags.json) process.stdout.write(`${JSON.stringify(GetInfoResponse.toJSON(info), null, 2)}\n`);
        else process.stdout.write(clusterStatusText(info));
      } finally {
        control.close();
      }
    });

  cluster
    .command("join-token")
    .description("print the token that admits workers (agents) or managers; --rotate replaces it")
    .argument("<role>", "worker or manager")
    .option("--rotate", "replace the token: the old one admits nobody any more (nodes already in stay)")
    .option("-q, --quiet", "print only the token")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (role: string, flags: { rotate?: boolean; quiet?: boolean; manager?: string }) => {
      if (role !== "worker" && role !== "manager") {
        throw new ShoalError(ErrorCode.InvalidArgument, `role "${role}": expected worker or manager`);
      }
      const addrs = managerAddresses(flags.manager);
      const control = new Control(addrs);
      try {
        let { cluster } = await control.call("getCluster", { clusterId: "" });
        if (flags.rotate) {
          ({ cluster } = await control.call("updateCluster", {
            clusterId: cluster!.id,
            clusterVersion: cluster!.meta?.version,
            spec: cluster!.spec,
            rotation: { worker: role === "worker", manager: role === "manager", rootCa: false },
          }));
        }
        const token = role === "worker" ? cluster?.rootJoinTokens?.worker : cluster?.rootJoinTokens?.manager;
        if (!token)
          throw new ShoalError(ErrorCode.Unavailable, "the cluster has no join token yet; try again in a moment");
        if (flags.quiet) {
          process.stdout.write(`${token}\n`);
          return;
        }
        if (flags.rotate) process.stdout.write(`Successfully rotated ${role} join token.\n\n`);
        const command =
          role === "worker"
            ? `shoal agent --token ${token} --manager ${addrs.join(",")} --data-dir /var/lib/shoal/agent`
            : `shoal manager --token ${token} --join ${addrs[0]} --listen HOST:PORT --data-dir /var/lib/shoal/manager`;
        process.stdout.write(`To add a ${role} to this cluster, run the following command:\n\n    ${command}\n\n`);
      } finally {
        control.close();
      }
    });

  cluster
    .command("remove-manager")
    .description("remove a manager from the raft group (by raft id, node id or node id prefix)")
    .argument("<id>", "raft id (hex, as cluster status shows) or node id")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (ref: string, flags: { manager?: string }) => {
      const addrs = managerAddresses(flags.manager);
      const control = new Control(addrs);
      let info: GetInfoResponse;
      try {
        info = await control.call("getInfo", {});
      } finally {
        control.close();
      }
      const members = info.raft?.members ?? [];
      const matches = members.filter(
        (m) => hex(m.member?.raftId ?? 0) === ref.toLowerCase() || (m.member?.nodeId ?? "").startsWith(ref),
      );
      if (matches.length !== 1) {
        throw new ShoalError(
          matches.length === 0 ? ErrorCode.NotFound : ErrorCode.FailedPrecondition,
          matches.length === 0 ? `no manager ${ref} in the cluster` : `${ref} matches ${matches.length} managers`,
        );
      }
      const raftId = matches[0]!.member!.raftId;
      await leave(info.leaderAddr || control.address, raftId);
      process.stdout.write(`removed manager ${hex(raftId)}\n`);
    });
}

async function leave(addr: string, raftId: number): Promise<void> {
  const tls = await clientTls();
  const client = new RaftMembershipClient(addr, tls.credentials, tls.options);
  try {
    await unaryCall(client, "leave", { raftId }, { timeoutMs: 20_000 });
  } finally {
    client.close();
  }
}
