/**
 * WebSocket close codes the gateway uses (RFC 6455 §7.4.1), named once so
 * every endpoint closes for the same reason with the same code.
 */
export const CloseCode = {
  /** The subscription ended normally. */
  NORMAL: 1000,
  /** The gateway is shutting down. */
  GOING_AWAY: 1001,
  /** The client sent a binary frame; the API is JSON text. */
  UNSUPPORTED_DATA: 1003,
  /** The request broke a rule: unknown job, bad query parameter. */
  POLICY_VIOLATION: 1008,
  /** An inbound frame exceeded WS_MAX_PAYLOAD_BYTES (sent by `ws` itself). */
  MESSAGE_TOO_BIG: 1009,
  /** An unexpected server error. */
  INTERNAL_ERROR: 1011,
  /** The client stayed over its send bound too long; reconnect when able to keep up. */
  TRY_AGAIN_LATER: 1013,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
