// Snapshots of the applied state, so that the log can be compacted and a lagging or new member
// catch up from one. Every `interval` applied entries (or at once after a data key rotation, so
// that the data under the old key is replaced), the state is encoded in the background (the
// store's saveAsync takes its picture at once and encodes in slices, so the loop keeps running);
// the driver then writes it between two Readies, never during one.
import { RaftSnapshotData, errorMessage, type Logger, type RaftMember } from "@shoal/shared";
import type { ConfState, RaftDisk, Snapshot } from "@shoal/raft";
import type { StateMachine } from "./state-machine.js";

export interface SnapshotterOptions {
  readonly disk: RaftDisk;
  readonly stateMachine: StateMachine;
  readonly logger: Logger;
  /** Applied entries between snapshots, read at each check (it may change); default 10 000. */
  readonly interval?: number | (() => number) | undefined;
  /** A snapshot is encoded and waits to be written: run the driver's loop. */
  onPrepared(): void;
}

/** The applied state a snapshot is taken of. */
export interface SnapshotPoint {
  readonly applied: number;
  readonly confState: ConfState;
  /** The members, read only when a snapshot is taken. */
  members(): readonly RaftMember[];
}

/** Applied entries between two snapshots when the manager is not told otherwise. */
export const DEFAULT_SNAPSHOT_INTERVAL = 10_000;

/** Entries kept in the log behind a snapshot, so that a follower a little behind catches up without one. */
export function retainedEntries(interval: number): number {
  return Math.min(1000, interval);
}

export class Snapshotter {
  /** The index of the newest snapshot held (written, or received from the leader). */
  private snapshotIndex = 0;
  private encoding = false;
  private prepared: Snapshot | undefined;
  /** Take a snapshot at the next chance, whatever the interval. */
  private soon = false;

  constructor(private readonly options: SnapshotterOptions) {}

  private interval(): number {
    const { interval } = this.options;
    const n = typeof interval === "function" ? interval() : interval;
    return n !== undefined && n > 0 ? n : DEFAULT_SNAPSHOT_INTERVAL;
  }

  /** Whether a snapshot waits to be written, or is asked for. */
  get hasWork(): boolean {
    return this.prepared !== undefined || this.soon;
  }

  /** Whether an encoded snapshot waits to be written. */
  get hasPrepared(): boolean {
    return this.prepared !== undefined;
  }

  /** A snapshot at `index` was installed (from the leader, or at start): count from there. */
  installed(index: number): void {
    this.snapshotIndex = index;
    // One encoded before it is older than what the disk now holds.
    if (this.prepared && this.prepared.metadata.index <= index) this.prepared = undefined;
  }

  /** Take a snapshot at the next chance (after a data key rotation). */
  requestSoon(): void {
    this.soon = true;
  }

  /** Between two Readies: writes the snapshot prepared, then starts encoding the next when due. */
  async run(point: SnapshotPoint): Promise<void> {
    const prepared = this.prepared;
    if (prepared) {
      this.prepared = undefined;
      await this.options.disk.saveSnapshot(prepared, { retainEntries: retainedEntries(this.interval()) });
      this.snapshotIndex = prepared.metadata.index;
      this.options.logger.info({ index: prepared.metadata.index, bytes: prepared.data.length }, "saved snapshot");
    }
    if (this.encoding || (!this.soon && point.applied - this.snapshotIndex < this.interval())) return;
    if (point.applied === 0) return;
    this.soon = false;
    const index = point.applied;
    const metadata = {
      index,
      term: this.options.disk.storage.term(index),
      confState: { voters: [...point.confState.voters] },
    };
    const members = [...point.members()];
    const sm = this.options.stateMachine;
    this.encoding = true;
    void (sm.saveAsync ? sm.saveAsync() : Promise.resolve(sm.save()))
      .then((store) => {
        if (index <= this.snapshotIndex) return; // a newer snapshot was installed meanwhile
        this.prepared = { data: RaftSnapshotData.encode({ members, store }).finish(), metadata };
        this.options.onPrepared();
      })
      .catch((err: unknown) =>
        this.options.logger.error({ err: errorMessage(err), index }, "could not encode a snapshot"),
      )
      .finally(() => {
        this.encoding = false;
      });
  }
}
