/**
 * The scraper's readiness: ready once its store is open and migrated (and
 * the unfinished jobs resumed) and gRPC is listening; not ready while
 * starting, after a store failure, or while stopping. `/readyz` answers it
 * and the gRPC health service reports SERVING exactly when the store is
 * open, so a load balancer or the gateway stops sending work to a scraper
 * that can no longer store it.
 */

export const StoreState = {
  /** Opening the database and migrating it, then resuming unfinished jobs. */
  OPENING: "opening",
  OPEN: "open",
  /** Open, but commits fail because the database cannot be reached: crawls wait, commits are retried. */
  UNAVAILABLE: "unavailable",
  /** Opening or committing failed: nothing more is stored. */
  FAILED: "failed",
  CLOSED: "closed",
} as const;
export type StoreState = (typeof StoreState)[keyof typeof StoreState];

export const GrpcState = {
  STARTING: "starting",
  LISTENING: "listening",
  STOPPING: "stopping",
} as const;
export type GrpcState = (typeof GrpcState)[keyof typeof GrpcState];

export interface ReadinessReport {
  ready: boolean;
  body: {
    status: "ok" | "not_ready";
    /** The parts that are not ready ("store", "grpc"); empty when ready. */
    not_ready: Array<"store" | "grpc">;
    store: StoreState;
    grpc: GrpcState;
  };
}

export function readiness(store: StoreState, grpc: GrpcState): ReadinessReport {
  const notReady: ReadinessReport["body"]["not_ready"] = [];
  if (store !== StoreState.OPEN) notReady.push("store");
  if (grpc !== GrpcState.LISTENING) notReady.push("grpc");
  const ready = notReady.length === 0;
  return { ready, body: { status: ready ? "ok" : "not_ready", not_ready: notReady, store, grpc } };
}
