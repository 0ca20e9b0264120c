// The error of a write (or membership change) sent to a manager that is not the Raft leader.
import { ErrorCode, ShoalError } from "@shoal/shared";

export class NotLeaderError extends ShoalError {
  constructor(readonly leaderAddr: string | undefined) {
    super(ErrorCode.NotLeader, leaderAddr ? `not the leader; the leader is ${leaderAddr}` : "no leader is known now");
  }
}
