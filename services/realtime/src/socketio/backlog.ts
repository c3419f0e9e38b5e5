/**
 * A Socket.IO client's send backlog as engine.io sees it: packets waiting in
 * the connection's write buffer because the transport is still busy with
 * earlier ones (a WebSocket whose previous frames the kernel has not taken
 * yet, a polling client between two GETs). Counted from engine.io's
 * documented Socket events — 'packetCreate' (a packet joins the buffer) and
 * 'drain' (the buffer was handed to the transport and is empty again) — so
 * nothing reaches into engine.io's private fields.
 *
 * At `maxQueuedPackets` the client is BEHIND: droppable messages (progress)
 * are no longer queued for it; the latest one per key is owed instead and
 * sent when its buffer drains (conflation: a slow client skips intermediate
 * progress, never the latest). A client that stays BEHIND for
 * `slowClientTimeoutMs` is disconnected. Terminal messages are always queued.
 *
 * Why not socket.io's `volatile` flag: it drops a packet whenever the
 * transport is not writable at that instant — for a healthy WebSocket client
 * while its previous frame is in flight, for a polling client between two
 * polls — and never delivers the latest state afterwards.
 */

export const BacklogState = {
  /** Messages go straight to the write buffer. */
  CURRENT: "current",
  /** Over the bound: droppable messages are owed, not queued. */
  BEHIND: "behind",
  /** The client left; nothing more is tracked. */
  CLOSED: "closed",
} as const;
export type BacklogState = (typeof BacklogState)[keyof typeof BacklogState];

export interface BacklogPolicy {
  /** Queued packets at which the client is BEHIND. */
  maxQueuedPackets: number;
  /** How long it may stay BEHIND before it is disconnected. */
  slowClientTimeoutMs: number;
}

/** The engine.io Socket events the backlog listens to. */
export interface EngineConnection {
  on(event: "packetCreate" | "drain", listener: () => void): unknown;
  off(event: "packetCreate" | "drain", listener: () => void): unknown;
}

export interface OwedMessage {
  readonly event: string;
  readonly payload: unknown;
}

export interface BacklogHooks {
  /** The client has just gone over its bound. */
  onBehind(): void;
  /** Its buffer drained after being BEHIND: send what it is owed (the latest message per key). */
  onCaughtUp(owed: OwedMessage[]): void;
  /** It stayed BEHIND for the slow-client timeout. */
  onTooSlow(): void;
}

export class SocketBacklog {
  private current: BacklogState = BacklogState.CURRENT;
  private queued = 0;
  /** Latest droppable message per key, skipped while BEHIND. */
  private readonly owed = new Map<string, OwedMessage>();
  private slowTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: EngineConnection,
    private readonly policy: BacklogPolicy,
    private readonly hooks: BacklogHooks,
  ) {
    connection.on("packetCreate", this.onPacket);
    connection.on("drain", this.onDrain);
  }

  get state(): BacklogState {
    return this.current;
  }

  /** Packets waiting in the connection's write buffer. */
  get queuedPackets(): number {
    return this.queued;
  }

  get isBehind(): boolean {
    return this.current === BacklogState.BEHIND;
  }

  /** Keys with a message owed. */
  get owedKeys(): string[] {
    return [...this.owed.keys()];
  }

  /** Records `message` as the latest droppable message for `key`, sent once the client drains. */
  owe(key: string, message: OwedMessage): void {
    if (this.current === BacklogState.BEHIND) this.owed.set(key, message);
  }

  /** Drops what is owed for `key`: a newer picture or the key's terminal message went out, or the client left the room. */
  forget(key: string): void {
    this.owed.delete(key);
  }

  /** Stops tracking (the client disconnected). */
  dispose(): void {
    this.current = BacklogState.CLOSED;
    clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
    this.owed.clear();
    this.connection.off("packetCreate", this.onPacket);
    this.connection.off("drain", this.onDrain);
  }

  private readonly onPacket = (): void => {
    this.queued++;
    if (this.current !== BacklogState.CURRENT || this.queued < this.policy.maxQueuedPackets) return;
    this.current = BacklogState.BEHIND;
    this.slowTimer = setTimeout(this.onSlow, this.policy.slowClientTimeoutMs);
    this.slowTimer.unref();
    this.hooks.onBehind();
  };

  private readonly onDrain = (): void => {
    this.queued = 0;
    if (this.current !== BacklogState.BEHIND) return;
    this.current = BacklogState.CURRENT;
    clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
    const owed = [...this.owed.values()];
    this.owed.clear();
    this.hooks.onCaughtUp(owed);
  };

  private readonly onSlow = (): void => {
    this.slowTimer = undefined;
    if (this.current === BacklogState.BEHIND) this.hooks.onTooSlow();
  };
}
