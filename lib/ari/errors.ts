// Errors of the ARI side. Each has a stable `code`.

/** An ARI REST request failed: Asterisk answered an error, or could not be reached. */
export class AriRequestError extends Error {
  readonly code: string = 'ari_request';
  constructor(
    /** What was asked, e.g. `answer channel 1700.1`. */
    readonly operation: string,
    /** Asterisk's message, e.g. `Channel not found`. */
    readonly detail: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${operation}: ${detail}`, options);
    this.name = 'AriRequestError';
  }
}

/** 404: the channel, playback or application is not (or no longer) there. */
export class AriNotFoundError extends AriRequestError {
  override readonly code = 'ari_not_found';
  constructor(operation: string, detail: string, options?: { cause?: unknown }) {
    super(operation, detail, 404, options);
    this.name = 'AriNotFoundError';
  }

  /** Asterisk's "Channel not found": the caller hung up, a normal end of a call. */
  get channelGone(): boolean {
    return /channel not found/i.test(this.detail) || this.detail === 'Asterisk answered 404';
  }
}

/** No answer within the request time-out; the request is abandoned. */
export class AriTimeoutError extends AriRequestError {
  override readonly code = 'ari_timeout';
  constructor(operation: string, timeoutMs: number) {
    super(operation, `no answer from Asterisk within ${timeoutMs} ms`);
    this.name = 'AriTimeoutError';
  }
}

/** A request made while the engine has never reached ARI (the API is not loaded yet). */
export class AriNotConnectedError extends AriRequestError {
  override readonly code = 'ari_not_connected';
  constructor(operation: string) {
    super(operation, 'ARI is not connected');
    this.name = 'AriNotConnectedError';
  }
}
