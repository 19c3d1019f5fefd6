// Shared set-up for the ARI suites: the fake Asterisk, the run's Redis with a prefix per
// suite, an in-process callback worker, loopback callback servers, and the stasis role as
// `start` wires it. Everything is closed in the suite's after-all hook.
import { startStasisRole, type StasisRole } from '../../../app/roles/stasis.js';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import { parseApps, type CallControlApp } from '../../../lib/config/index.js';
import { CallbackWorker } from '../../../lib/queue/index.js';
import { FakeAri, type FakeAriOptions, type RecordedAriRequest } from '../../support/fake-ari/index.js';
import { startServer, type ScriptedHandler, type ScriptedServer } from '../../support/http-servers.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';
import { stderrLogger, type TestLogger } from '../../support/stderr-logger.js';

export const APP_NAME = 'opentact';
export const CALLER = '15550001111';
/** Asterisk plays http(s) sounds itself: these URLs are never fetched by the fake. */
export const WELCOME = 'http://media.invalid/welcome.wav';
export const NEXT = 'http://media.invalid/next.wav';
export const SORRY = 'http://media.invalid/sorry.wav';

/** Raw app entries as in an apps file; validated with the real parser. */
export type RawApp = Record<string, unknown>;

export function apps(raw: readonly RawApp[]): CallControlApp[] {
  return parseApps({ apps: raw }, 'test-apps.yaml', { maxBytes: 256 * 1024, env: process.env });
}

export interface SuiteOptions {
  readonly fake?: FakeAriOptions;
  readonly requestTimeoutMs?: number;
  readonly shutdownGraceMs?: number;
  readonly workerConcurrency?: number;
  /** Faster reconnects for the tests (production: 0.5 s doubling to 30 s). */
  readonly backoff?: { initialMs: number; maxMs: number };
}

export class AriSuite {
  readonly prefix: string;
  readonly logger: TestLogger = stderrLogger('error');
  fake!: FakeAri;
  role!: StasisRole;
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(name: string) {
    this.prefix = uniquePrefix(`ari-${name}`);
  }

  /** Starts the fake, a worker and the stasis role with these apps; waits until ARI is connected. */
  async start(appList: readonly CallControlApp[], options: SuiteOptions = {}): Promise<void> {
    const redisUrl = await sharedRedisUrl();
    this.fake = await FakeAri.start(options.fake);
    this.closers.push(() => this.fake.close());
    const worker = await CallbackWorker.start(
      {
        connection: redisUrl,
        prefix: this.prefix,
        concurrency: options.workerConcurrency ?? 50,
        policy: new UrlPolicy('127.0.0.0/8'),
        secrets: { get: () => undefined },
      },
      this.logger,
    );
    this.closers.push(() => worker.close());
    this.role = startStasisRole(
      {
        ari: {
          url: this.fake.url,
          username: this.fake.username,
          password: this.fake.password,
          app: APP_NAME,
          requestTimeoutMs: options.requestTimeoutMs ?? 2000,
        },
        apps: appList,
        redisUrl,
        queuePrefix: this.prefix,
        secrets: { get: () => undefined },
        maxBytes: 256 * 1024,
        maxDocumentsPerCall: 100,
        shutdownGraceMs: options.shutdownGraceMs ?? 1000,
        backoff: options.backoff ?? { initialMs: 20, maxMs: 200 },
      },
      this.logger,
    );
    this.closers.push(() => this.role.stop());
    await this.fake.waitForApplication(APP_NAME, 5000);
    await this.connected();
  }

  /** Resolves once the role reports ARI connected. */
  async connected(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`ARI not connected within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.role.connection.whenState('connected'), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async server(handler: ScriptedHandler): Promise<ScriptedServer> {
    const server = await startServer(handler);
    this.closers.push(() => server.close());
    return server;
  }

  /** The REST requests made on one channel, as `METHOD /path` lines (the /ari/channels/<id> prefix dropped). */
  channelRequests(channelId: string): RecordedAriRequest[] {
    const path = `/ari/channels/${channelId}`;
    return this.fake.requests.filter((r) => r.path === path || r.path.startsWith(`${path}/`));
  }

  async close(): Promise<void> {
    const closers = this.closers.splice(0).reverse();
    for (const close of closers) await close();
  }
}

/** `POST answer`, `POST play sound:…`, `DELETE 16`: a compact view of a channel's requests. */
export function describeRequests(requests: readonly RecordedAriRequest[], channelId: string): string[] {
  return requests.map((r) => {
    const rest = r.path.slice(`/ari/channels/${channelId}`.length).replace(/^\//, '');
    if (r.method === 'DELETE' && rest === '') return `DELETE ${r.query['reason_code'] ?? r.query['reason'] ?? ''}`;
    if (rest.startsWith('play')) return `POST play ${r.query['media'] ?? ''}`;
    return `${r.method} ${rest}`;
  });
}

/** A flow document served by a callback server. */
export function xml(res: import('node:http').ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(body);
}
