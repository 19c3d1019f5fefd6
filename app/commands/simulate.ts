import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Config } from '../../lib/config/index.js';
import { runFlow, type CallbackRequest, type FlowFetcher, type Logger } from '../../lib/flow/index.js';
import { createLogger } from '../../lib/log.js';
import { pingRedis, RedisUnavailableError } from '../../lib/queue/index.js';
import { ConsoleCall, type DialBehaviour } from '../../lib/simulator/console-call.js';
import { ConsoleMedia } from '../../lib/simulator/console-media.js';
import { Timeline } from '../../lib/simulator/timeline.js';
import { XmlError, formatProblem, parseDocument, type FlowDocument, type HttpMethod } from '../../lib/xml/index.js';
import { describeError } from '../describe-error.js';
import { openFetcher, type OpenFetcher } from '../fetchers.js';
import type { Output } from '../output.js';

export interface SimulateOptions {
  readonly from: string;
  readonly to: string;
  readonly digits: string;
  readonly hangupAfter?: number;
  /** What `<Dial>` targets do (`--dial`); default: they answer. */
  readonly dial?: DialBehaviour;
  readonly method: HttpMethod;
  readonly body: boolean;
  readonly timeout?: number;
  readonly sca?: string;
}

/** The app a simulated call belongs to unless `--sca` names another. */
export const SIMULATOR_SCA = '00000000-0000-4000-8000-00000000051a';

/** How long `simulate` waits for the Redis of REDIS_URL before giving up (exit 2). */
export const REDIS_CHECK_MS = 3000;

class SourceError extends Error {
  readonly code = 'source_unusable';
}

/**
 * Runs a flow against a console call and prints one JSON line per event on stdout.
 * Exit code 0 when the flow ran, 2 when the document or URL cannot be used, or when the
 * Redis of REDIS_URL does not answer within REDIS_CHECK_MS.
 */
export async function simulate(source: string, options: SimulateOptions, config: Config, out: Output): Promise<number> {
  const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
  const log = createLogger(level, { name: 'simulate', secrets: config.secretValues ?? [] });
  const sca = options.sca ?? SIMULATOR_SCA;
  const app = { uuid: sca, name: 'simulator', data: {} };
  let fetcher: OpenFetcher;
  try {
    if (config.redis !== undefined) await pingRedis(config.redis, AbortSignal.timeout(REDIS_CHECK_MS));
    // The queue's warnings (a Redis outage during the run) as plain lines, like every
    // other message of this command on stderr.
    fetcher = await openFetcher(config, app, plainLogger(level, out));
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    out.error(`opentact-ari: ${error.message}; unset REDIS_URL to run callbacks in this process`);
    return 2;
  }
  const timeline = new Timeline((line) => out.line(JSON.stringify(line)));
  const call = new ConsoleCall({
    call: randomUUID(),
    sca,
    from: options.from,
    tn: options.to,
    digits: options.digits,
    ...(options.hangupAfter === undefined ? {} : { hangupAfterMs: options.hangupAfter }),
    ...(options.dial === undefined ? {} : { dial: options.dial }),
    onEvent: (event) => timeline.caller(event),
  });
  try {
    const document = isUrl(source)
      ? await loadUrl(source, options, config, fetcher.fetcher, call)
      : await loadFile(source, config.callback.maxBytes);
    const media = new ConsoleMedia();
    await runFlow(
      document,
      { call, fetcher: fetcher.fetcher, speech: media, audio: media, events: timeline, log },
      { maxDocuments: config.maxDocumentsPerCall },
    );
    return 0;
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    out.error(`opentact-ari: ${error.message}`);
    return 2;
  } finally {
    call.dispose();
    await fetcher.close();
  }
}

function isUrl(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

async function loadFile(path: string, maxBytes: number): Promise<FlowDocument> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    throw new SourceError(`cannot read ${path}: ${describeError(error)}`);
  }
  try {
    return parseDocument(text, { maxBytes });
  } catch (error) {
    if (error instanceof XmlError) throw new SourceError(`${path}:${formatProblem(error.first)}`);
    throw error;
  }
}

/** A URL source is loaded the way a webhook app's first document is: one callback. */
async function loadUrl(
  url: string,
  options: SimulateOptions,
  config: Config,
  fetcher: FlowFetcher,
  call: ConsoleCall,
): Promise<FlowDocument> {
  const { info } = call;
  const request: CallbackRequest = {
    url,
    method: options.method,
    body: options.body,
    fields: { call: info.call, sca: info.sca, state: info.state, from: info.from, tn: info.tn },
    path: 'webhook',
    step: 0,
  };
  const timeout = options.timeout ?? config.callback.timeoutMs;
  const result = await fetcher.fetch(request, Date.now() + timeout, call.ended);
  if (!result.ok) throw new SourceError(`cannot load ${url}: ${result.failure.code}: ${result.failure.reason}`);
  return result.document;
}

const RANK: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/**
 * A Logger that prints each entry at `level` or above as one plain line on stderr:
 * `opentact-ari: <message> (<field>=<value>, …)`, an error by its message, never a stack.
 */
export function plainLogger(level: string, out: Output): Logger {
  const threshold = RANK[level] ?? Infinity;
  const write =
    (rank: number) =>
    (obj: object, msg?: string): void => {
      if (rank < threshold) return;
      const fields = Object.entries(obj).map(([key, value]) => `${key}=${plainValue(value)}`);
      out.error(`opentact-ari: ${msg ?? 'log'}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}`);
    };
  const logger = (bound: object): Logger => {
    const at =
      (rank: number) =>
      (obj: object, msg?: string): void =>
        write(rank)({ ...bound, ...obj }, msg);
    return {
      debug: at(RANK['debug'] ?? 0),
      info: at(RANK['info'] ?? 0),
      warn: at(RANK['warn'] ?? 0),
      error: at(RANK['error'] ?? 0),
      child: (fields) => logger({ ...bound, ...fields }),
    };
  };
  return logger({});
}

function plainValue(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
