// ARI REST requests over node:http with a keep-alive agent of our own: what ClientRest
// sends. ari-client sends each request through swagger-client 2 and its HTTP layer, which
// build a model of the operation, its parameters and its answer on every call; under a
// burst of calls that work, not Asterisk, was the wait between StasisStart and the answer.
// ari-client keeps the events WebSocket and loads the API (see connection.ts).
import http from 'node:http';
import https from 'node:https';
import { AriNotFoundError, AriRequestError, AriTimeoutError } from './errors.js';
import { HandBack } from './hand-back.js';

export interface AriHttpOptions {
  /** `http(s)://host:port`, as for ari-client; requests go to `<url>/ari/…`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Each request, from its start to the end of Asterisk's answer. */
  readonly timeoutMs: number;
  /** Connections to Asterisk at once; more requests wait for a free one. */
  readonly maxSockets: number;
  /** The longest an answer is held while requests wait for a connection (default MAX_HOLD_MS). */
  readonly maxHoldMs?: number;
}

export type AriMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Query parameters as ARI takes them: lists comma-separated, undefined ones left out. */
export type AriQuery = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

/**
 * Asterisk's answers are small JSON documents (a channel, an application's channel ids);
 * a larger one is refused rather than buffered.
 */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/**
 * An idle connection is closed after this long, before the server closes it (Asterisk's
 * `session_keep_alive`, http.conf, defaults to 15 s): a request sent on a connection the
 * server is closing fails. Node's own global agent uses the same 5 s.
 */
const IDLE_SOCKET_MS = 5000;

/**
 * The longest Asterisk's answers are held back while requests wait for a connection (see
 * hand-back.ts): a burst of 1,000 new calls sends its answer requests in about 0.3 s.
 */
export const MAX_HOLD_MS = 500;

export class AriHttp {
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  /** Where requests go: the host, its port, and the path `/ari` is under. */
  private readonly target: { readonly hostname: string; readonly port: string; readonly base: string };
  private readonly headers: Readonly<Record<string, string>>;
  private readonly handBack: HandBack;

  constructor(private readonly options: AriHttpOptions) {
    const url = new URL(options.url);
    const secure = url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo', timeout: IDLE_SOCKET_MS } as const;
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.request = secure ? https.request : http.request;
    // `[::1]` → `::1`: http.request takes the address itself.
    this.target = { hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port, base: `${url.pathname.replace(/\/+$/, '')}/ari` };
    const credentials = Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64');
    this.headers = { authorization: `Basic ${credentials}`, accept: 'application/json' };
    this.handBack = new HandBack(() => this.waiting(), options.maxHoldMs ?? MAX_HOLD_MS);
  }

  /**
   * Sends `method path?query` (path below `/ari`, its segments already encoded) and
   * resolves with Asterisk's JSON answer, or undefined when it had no body. Rejects with
   * AriNotFoundError (404), AriTimeoutError, or AriRequestError (any other error status, or
   * Asterisk unreachable). `operation` names the request in those errors. Asterisk's
   * answer is handed back through a HandBack: held while other requests wait for a
   * connection.
   */
  send(operation: string, method: AriMethod, path: string, query: AriQuery = {}): Promise<unknown> {
    const { timeoutMs } = this.options;
    const { hostname, port, base } = this.target;
    const options = { hostname, port, method, path: `${base}${path}${queryString(query)}`, headers: this.headers, agent: this.agent };
    return new Promise<unknown>((resolve, reject) => {
      let current: http.ClientRequest | undefined;
      let timedOut = false;
      // A timer rather than AbortSignal.timeout: under a burst, a signal and its listeners
      // cost about as much as the rest of the request.
      const timer = setTimeout(() => {
        timedOut = true;
        current?.destroy();
      }, timeoutMs);
      const outcome: Outcome = {
        answered: (status, text) => {
          clearTimeout(timer);
          this.handBack.add(() => {
            try {
              resolve(answerOf(operation, status, text));
            } catch (error) {
              reject(error);
            }
          });
        },
        failed: (error) => {
          clearTimeout(timer);
          reject(timedOut ? new AriTimeoutError(operation, timeoutMs) : transportError(operation, error));
        },
      };
      const attempt = (mayRetry: boolean): void => {
        const req = this.request(options);
        current = req;
        let answered = false;
        req.on('error', (error: unknown) => {
          // A kept-alive connection Asterisk closed just as the request went out on it: the
          // request never reached Asterisk, so it is sent again, once, on a new connection.
          if (mayRetry && !answered && !timedOut && req.reusedSocket && isReset(error)) attempt(false);
          else outcome.failed(error);
        });
        req.on('response', (res: http.IncomingMessage) => {
          answered = true;
          readAnswer(req, res, outcome);
        });
        req.end();
      };
      attempt(true);
    });
  }

  /** Requests waiting for a connection (past maxSockets). */
  private waiting(): number {
    let count = 0;
    for (const queue of Object.values(this.agent.requests)) count += queue?.length ?? 0;
    return count;
  }

  /**
   * Hands back the answers held and closes the idle connections; requests under way
   * finish, and their connections close once idle.
   */
  close(): void {
    this.handBack.flush();
    for (const sockets of Object.values(this.agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }
}

interface Outcome {
  /** Asterisk answered `status` with the body `text`. */
  answered(status: number, text: string): void;
  /** No (whole) answer: the time-out, or the connection failed. */
  failed(error: unknown): void;
}

/** Reads Asterisk's answer whole (at most MAX_ANSWER_BYTES). */
function readAnswer(req: http.ClientRequest, res: http.IncomingMessage, outcome: Outcome): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_ANSWER_BYTES) req.destroy(new Error(`an answer larger than ${MAX_ANSWER_BYTES} bytes`));
    else chunks.push(chunk);
  });
  res.on('error', (error: unknown) => outcome.failed(error));
  res.on('close', () => {
    if (!res.complete) outcome.failed(new Error('the answer was cut short'));
  });
  res.on('end', () => outcome.answered(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
}

function isReset(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ECONNRESET';
}

/** Percent-encoded as swagger-client encodes them (a space is %20: Asterisk reads `+` as one too). */
function queryString(query: AriQuery): string {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const text = typeof value === 'object' ? value.join(',') : String(value);
    pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(text)}`);
  }
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

/** The body of a 2xx answer, parsed; throws the error an error status stands for. */
function answerOf(operation: string, status: number, text: string): unknown {
  const body = parseJson(text);
  if (status >= 200 && status < 300) return body;
  const detail = messageOf(body) ?? `Asterisk answered ${status}`;
  if (status === 404) throw new AriNotFoundError(operation, detail);
  throw new AriRequestError(operation, detail, status);
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Asterisk's errors are `{"message": "Channel not found"}`. */
function messageOf(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') return body.message;
  return typeof body === 'string' && body !== '' ? body : undefined;
}

/** Refused, reset, or an answer cut short: Asterisk could not be reached. */
function transportError(operation: string, error: unknown): AriRequestError {
  if (error instanceof AriRequestError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new AriRequestError(operation, detail, undefined, { cause: error });
}
