// The Raft group's members as this manager sees them: who leads and, on the leader only, who is
// reachable (heard from within an election timeout, state/raft/peer-liveness.ts; not the core's
// recentActive, which each check-quorum clears until the member's next answer). `shoal cluster
// status` shows them; the leader's manager-nodes component copies them into the managers' nodes.
import { Reachability, type RaftMemberStatus } from "@shoal/shared";
import type { RaftView } from "./raft-view.js";

export function memberStatuses(raft: RaftView): RaftMemberStatus[] {
  const status = raft.status();
  return raft.memberList().map((member) => {
    const progress = status.progress.get(member.raftId);
    const self = member.raftId === raft.raftId;
    return {
      member,
      leader: member.raftId === status.leader,
      reachability: !raft.isLeader
        ? Reachability.UNKNOWN
        : self || progress?.reachable
          ? Reachability.REACHABLE
          : Reachability.UNREACHABLE,
      matchIndex: progress?.match ?? 0,
    };
  });
}
