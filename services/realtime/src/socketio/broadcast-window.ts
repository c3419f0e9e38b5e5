/**
 * The room broadcasts of one batch window, held back and sent together.
 *
 * socket.io encodes a room broadcast once, but engine.io then handles every
 * packet for every member on its own (write buffer, events, one WebSocket
 * send each). Held for a window, the packets of one room (and one set of
 * members to leave out) are handed to `deliver` together, in the order they
 * were published, so the edge can frame them once and write them to each
 * member in one go — what the raw WebSocket hub does with its FrameBatch.
 * All of a window's batches are delivered in one call, so a client in
 * several rooms can get them in one write too.
 *
 * Scheduling is the hub's: a window opens with its first packet and closes
 * `windowMs` after the previous flush, so under a stream of events a room is
 * flushed at most once per window, while an event after a quiet spell (or
 * with `windowMs` 0) goes out at the end of its tick. `flush()` sends
 * everything pending at once; the edge calls it before anything that must not
 * overtake a pending packet (a per-socket emit, an ack, a join or a leave).
 */
import { FlushWindow } from "../ws/flush-window.js";

export interface WindowPacket {
  readonly event: string;
  readonly payload: unknown;
  /** May be skipped (and owed) for a client that is behind. */
  readonly droppable: boolean;
}

/** The packets of one window for one room, minus the members in `except`. */
export interface RoomBatch {
  readonly room: string;
  readonly except: ReadonlySet<string>;
  readonly packets: WindowPacket[];
}

export class BroadcastWindow {
  /** This window's batches by room and except-set, in the order they were opened. */
  private pending = new Map<string, RoomBatch>();
  private readonly window: FlushWindow;

  constructor(
    windowMs: number,
    private readonly deliver: (batches: readonly RoomBatch[]) => void,
  ) {
    this.window = new FlushWindow(windowMs, () => this.flush());
  }

  /** Packets waiting for the end of the window (diagnostics, tests). */
  get size(): number {
    let count = 0;
    for (const batch of this.pending.values()) count += batch.packets.length;
    return count;
  }

  /** Queues `packet` for the members of `room` not named in `except`. */
  add(room: string, except: readonly string[], packet: WindowPacket): void {
    // Socket ids are base64url, so "," cannot occur in one; NUL cannot occur in a room name the edge makes.
    const key = except.length === 0 ? room : `${room}\u0000${[...except].sort().join(",")}`;
    let batch = this.pending.get(key);
    if (batch === undefined) {
      batch = { room, except: new Set(except), packets: [] };
      this.pending.set(key, batch);
      this.window.schedule();
    }
    batch.packets.push(packet);
  }

  /**
   * Delivers every pending batch now. The pending set is swapped out first,
   * so a flush reached again from inside `deliver` (an engine.io 'drain'
   * that sends what a client was owed) finds nothing left to send twice.
   */
  readonly flush = (): void => {
    if (this.pending.size === 0) return;
    const batches = [...this.pending.values()];
    this.pending = new Map();
    this.deliver(batches);
  };

  /** Removes and returns `room`'s pending batches, for the caller to send ahead of the window. */
  take(room: string): RoomBatch[] {
    const taken: RoomBatch[] = [];
    for (const [key, batch] of this.pending) {
      if (batch.room !== room) continue;
      this.pending.delete(key);
      taken.push(batch);
    }
    return taken;
  }

  /** Drops whatever is pending (the edge is shutting down). */
  dispose(): void {
    this.pending.clear();
    this.window.cancel();
  }
}
