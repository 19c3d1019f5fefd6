// ARI REST requests of the load tool's tester application: kept-alive connections, at most
// `maxSockets` at once (Asterisk's http.conf sessionlimit, 100 by default, is shared with
// the engine's ARI_MAX_CONNECTIONS, 50), and a time-out on every request.
import http from 'node:http';

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

  /** `path` starts with /ari. Rejects on a network error, or with AriTimeoutError after `timeoutMs`. */
  request(method: string, path: string, body: unknown, timeoutMs: number): Promise<AriAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { authorization: this.authorization };
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    return new Promise((resolve, reject) => {
      const request = http.request(`${this.ari.url}${path}`, { method, headers, agent: this.agent }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, text });
        });
        response.on('error', fail);
      });
      // A plain timer rather than AbortSignal.timeout(): see within() in children.ts.
      const timer = setTimeout(() => request.destroy(new AriTimeoutError(timeoutMs)), timeoutMs);
      function fail(error: Error): void {
        clearTimeout(timer);
        reject(error);
      }
      request.on('error', fail);
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
