// When Asterisk's answers reach the engine. Under a burst of new calls every call's answer
// request queues behind the connection cap (ARI_MAX_CONNECTIONS); each answer that comes
// back lets that call's flow go on, and running those flows (a document, a <Say> to look
// up, the next request to build) is most of the engine's work. Handed back at once, that
// work runs between the answers still to send, and the last caller waits for all of it.
// Held while requests wait for a connection, it runs once they are sent: the flows lose
// nothing, since their next requests would have queued behind the waiting ones anyway.

/** Answers to Asterisk's requests, handed back in the order they came. */
export class HandBack {
  private held: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** How many requests wait for a connection now. */
    private readonly waiting: () => number,
    /** The longest an answer is held, however long requests go on waiting. */
    private readonly maxHoldMs: number,
  ) {}

  /** Runs `deliver` now when no request waits for a connection; else holds it. */
  add(deliver: () => void): void {
    this.held.push(deliver);
    if (this.waiting() === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.maxHoldMs);
  }

  /** Hands back every answer held, in order. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    this.held = [];
    for (const deliver of held) deliver();
  }
}
