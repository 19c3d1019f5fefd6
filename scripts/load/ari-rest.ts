// ARI REST requests of the load tool's tester application. Asterisk's HTTP server takes at
// most `sessionlimit` (100) sessions at once, shared with the engine's ARI_MAX_CONNECTIONS
// (50): the tester keeps at most `maxSockets` connections, and never opens more. So a
// request that takes too long is given up by its caller (at `timeoutMs`) but, once sent,
// left to finish on its connection — destroying it would open another while Asterisk still
// works on the first — unless it takes longer than HARD_TIMEOUT_MS. A request still waiting
// for a connection when it is given up is dropped unsent.
import http from 'node:http';

/** How long a request already sent may hold its connection before it is cut. */
const HARD_TIMEOUT_MS = 60_000;

export interface AriAnswer {
  readonly status: number;
  readonly text: string;
}

export interface AriCredentials {
  /** `http://host:port`, without /ari. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

export class AriTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'AriTimeoutError';
  }
}

export class AriRest {
  private readonly agent: http.Agent;
  private readonly authorization: string;

  constructor(
    private readonly ari: AriCredentials,
    maxSockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
    this.authorization = `Basic ${Buffer.from(`${ari.username}:${ari.password}`).toString('base64')}`;
  }

  /**
   * `path` starts with /ari. Rejects on a network error, or with AriTimeoutError after
   * `timeoutMs`; an answer that comes after that goes to `late` (e.g. to undo a create).
   */
  request(method: string, path: string, body: unknown, timeoutMs: number, late?: (answer: AriAnswer) => void): Promise<AriAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { authorization: this.authorization };
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    return new Promise((resolve, reject) => {
      let givenUp = false;
      let sent = false;
      const request = http.request(`${this.ari.url}${path}`, { method, headers, agent: this.agent }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          clearTimeout(soft);
          clearTimeout(hard);
          const answer = { status: response.statusCode ?? 0, text };
          if (givenUp) late?.(answer);
          else resolve(answer);
        });
        response.on('error', fail);
      });
      // Plain timers rather than AbortSignal.timeout(): see within() in children.ts.
      const soft = setTimeout(() => {
        givenUp = true;
        reject(new AriTimeoutError(timeoutMs));
        if (!sent) request.destroy();
      }, timeoutMs);
      const hard = setTimeout(() => request.destroy(), HARD_TIMEOUT_MS);
      function fail(error: Error): void {
        clearTimeout(soft);
        clearTimeout(hard);
        if (!givenUp) reject(error);
      }
      request.on('socket', () => {
        sent = true;
      });
      request.on('error', fail);
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
