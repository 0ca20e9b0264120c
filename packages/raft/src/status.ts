// A read-only view of a node, for monitoring and tests.
import type { Raft } from "./raft.js";
import type { ProgressState } from "./tracker/progress.js";
import type { ConfState, HardState, SoftState } from "./types.js";

export interface BasicStatus {
  id: number;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: number;
}

export interface PeerProgress {
  match: number;
  next: number;
  state: ProgressState;
  recentActive: boolean;
  paused: boolean;
  inflight: number;
}

export interface Status extends BasicStatus {
  config: ConfState;
  /** Only on the leader. */
  progress?: Map<number, PeerProgress>;
}

export function basicStatusOf(r: Raft): BasicStatus {
  return {
    id: r.id,
    hardState: r.hardState(),
    softState: r.softState(),
    applied: r.log.applied,
    leadTransferee: r.leadTransferee,
  };
}

export function statusOf(r: Raft): Status {
  const s: Status = { ...basicStatusOf(r), config: r.trk.confState() };
  if (r.role === "leader") {
    const progress = new Map<number, PeerProgress>();
    for (const [id, pr] of r.trk.progress) {
      progress.set(id, {
        match: pr.match,
        next: pr.next,
        state: pr.state,
        recentActive: pr.recentActive,
        paused: pr.isPaused(),
        inflight: pr.inflights.length,
      });
    }
    s.progress = progress;
  }
  return s;
}
