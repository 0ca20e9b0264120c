// A state machine for tests of the Raft driver, and the members of test clusters.
import { RaftMember, type InternalRaftRequest } from "@shoal/shared";
import type { StateMachine } from "../../../../src/state/raft/state-machine.js";

export const member = (id: number): RaftMember =>
  RaftMember.create({ raftId: id, nodeId: `node-${id}`, addr: `manager-${id}:4242` });

/** Records the requests applied (index and proposal id); its snapshot is that list. */
export class TestStateMachine implements StateMachine {
  applied: { index: number; id: number }[] = [];

  constructor(private readonly trace?: string[]) {}

  apply(index: number, request: InternalRaftRequest): void {
    this.applied.push({ index, id: request.id });
    this.trace?.push(`apply ${index}`);
  }

  save(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.applied));
  }

  restore(data: Uint8Array): void {
    this.applied = JSON.parse(new TextDecoder().decode(data)) as { index: number; id: number }[];
  }

  ids(): number[] {
    return this.applied.map((a) => a.id);
  }
}
