// The Dispatcher as a part of the manager: agents' sessions, heartbeats and task statuses, served
// from the start (a follower sends agents to the leader); it leads when this manager does.
import { DispatcherService, type Clock, type Logger, type RaftMember } from "@shoal/shared";
import { callerOf } from "../auth/caller.js";
import type { Component } from "../lifecycle/component.js";
import type { ServiceRegistry } from "../server/service-registry.js";
import type { MemoryStore } from "../state/store/index.js";
import { Dispatcher, type DispatcherOptions } from "./dispatcher.js";

/** This manager's view of the Raft group; none of it before the node runs. */
export interface DispatcherRaftView {
  readonly isLeader: boolean;
  readonly leaderId: number | undefined;
  leaderAddr(): string | undefined;
  members(): readonly RaftMember[];
}

export interface DispatcherComponentOptions {
  readonly server: ServiceRegistry;
  readonly store: MemoryStore;
  readonly raft: DispatcherRaftView;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly heartbeatPeriodMs?: number | undefined;
}

/** Agents fail over to the managers, the leader preferred. */
export const LEADER_WEIGHT = 10;

export class DispatcherComponent implements Component {
  readonly name = "dispatcher";
  readonly dispatcher: Dispatcher;

  constructor(private readonly options: DispatcherComponentOptions) {
    const { store, raft, clock, logger, heartbeatPeriodMs } = options;
    const dispatcherOptions: DispatcherOptions = {
      store,
      clock,
      logger,
      isLeader: () => raft.isLeader,
      nodeIdOf: (metadata) => callerOf(metadata)?.nodeId,
      leaderAddr: () => raft.leaderAddr(),
      managers: () => weightedManagers(raft.members(), raft.leaderId),
      ...(heartbeatPeriodMs !== undefined ? { heartbeatPeriodMs } : {}),
    };
    this.dispatcher = new Dispatcher(dispatcherOptions);
  }

  run(): Promise<void> {
    this.options.server.addService(DispatcherService, this.dispatcher.handlers());
    return Promise.resolve();
  }

  /** Called when this manager gains or loses leadership. */
  setLeader(isLeader: boolean): void {
    this.dispatcher.setLeader(isLeader);
  }

  /** Ends every agent session; idempotent. */
  stop(): void {
    this.dispatcher.stop();
  }
}

/** The managers as agents see them: the leader weighs more. */
export function weightedManagers(
  members: readonly RaftMember[],
  leaderId: number | undefined,
): { nodeId: string; addr: string; weight: number }[] {
  return members.map((m) => ({ nodeId: m.nodeId, addr: m.addr, weight: m.raftId === leaderId ? LEADER_WEIGHT : 1 }));
}
