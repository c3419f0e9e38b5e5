/**
 * Inbound message rate per connection (WS_MAX_MESSAGES_PER_SECOND): a token
 * bucket holding up to two seconds' worth, so a burst is allowed and a
 * sustained flood is not. Each message takes one token.
 */
export class MessageRate {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond * 2;
    this.last = now();
  }

  /** True when one more message is within the rate. */
  take(): boolean {
    const at = this.now();
    this.tokens = Math.min(this.perSecond * 2, this.tokens + ((at - this.last) / 1000) * this.perSecond);
    this.last = at;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
