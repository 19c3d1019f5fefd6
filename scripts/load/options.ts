// The load tool's command line (node:util parseArgs) and what it means, validated into
// LoadOptions. A mistake stops the tool with one line naming the option and the usage.
import { parseArgs } from 'node:util';

export const USAGE = `npm run load -- --rate R --duration S [options]

Places R calls per second for S seconds into a real Asterisk (default) or the fake ARI, runs
them through the engine, and prints what callers got: completed, failed and refused calls by
reason, StasisStart → first audio, callback latency, and the CPU and memory of each process.

What to run
  --flow play|callback|FILE   play: Play a prompt, Hangup. callback: Play, Callback through the
                              queue (answered <Response><Hangup/></Response>). FILE: an XML
                              document; {server} in it becomes the local callback server's
                              origin (routes: /prompt.wav, /next → Hangup, /next-play → Play
                              and Hangup). Default play.
  --prompt-ms MS              length of the prompt (a 440 Hz tone, 8 kHz WAV); default 1400
  --callback-timeout-ms MS    the callback flow's <Callback timeout>; default 5000

Where
  --asterisk | --fake         a private Asterisk 22 with asterisk-config/ (ASTERISK_BIN), or the
                              fake ARI in a child process; default --asterisk
  --ari-url URL               use a running Asterisk instead (with --ari-username, and
                              --ari-password or ARI_PASSWORD); calls go to Local/<DID>@--context
  --context NAME              dialplan context of the calls; default from-trunk (where
                              asterisk-config/extensions.conf sends the trunk's calls)
  --ari-app NAME              the engine's Stasis application; default opentact
  --asterisk-verbose N        \`core set verbose N\` on the tool's Asterisk (started with -vvv,
                              as in docker-compose.yml: a console line per dialplan step)
  --asterisk-pid PID          read a running Asterisk's CPU from this process
  --engine-url URL            use a running engine (its HTTP_PORT: /ready, /metrics) instead of
                              starting one; its apps file decides the flow of --did
  --engine-pid PID            read a running engine's CPU and memory from this process
  --engine-env KEY=VALUE      extra environment for the engine the tool starts (repeatable),
                              e.g. WORKER_CONCURRENCY=100 or CALL_TRAIL_TTL=0
  --redis-url URL             the Redis the engine uses; default a private redis-server
  --did NUMBER                the number called; default 15551300001
  --server-port PORT          the callback server's port; default a free one
  --apps-out FILE             write the apps file for --flow and --server-port, then exit

How
  --rate R                    calls placed per second (may be fractional); default 10
  --duration S                seconds of placing calls; default 10
  --warmup N                  calls placed one by one first, not counted; default 3
  --call-timeout S            a call not over S seconds after it was placed is hung up by the
                              tool and counted failed; default 30

Output
  --out FILE                  the JSON result; default load-<time>.json in the current directory
  --compare FILE              print the difference from an earlier result
  --report FILE               print a saved result (with --compare: against another) and exit
  --help`;

export type Target = 'asterisk' | 'fake';
export type FlowChoice = { readonly kind: 'builtin'; readonly name: 'play' | 'callback' } | { readonly kind: 'file'; readonly path: string };

export interface ExistingAsterisk {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly pid?: number;
}

export interface ExistingEngine {
  readonly url: string;
  readonly pid?: number;
}

export interface LoadOptions {
  readonly target: Target;
  readonly rate: number;
  readonly durationSeconds: number;
  readonly flow: FlowChoice;
  readonly promptMs: number;
  readonly callbackTimeoutMs: number;
  readonly warmupCalls: number;
  readonly callTimeoutMs: number;
  readonly did: string;
  readonly ariApp: string;
  readonly context: string;
  /** `core set verbose` for the Asterisk the tool starts; undefined: as started (-vvv). */
  readonly asteriskVerbose?: number;
  /** A running Asterisk, or undefined: the tool starts one (target asterisk). */
  readonly asterisk?: ExistingAsterisk;
  /** A running engine, or undefined: the tool starts one. */
  readonly engine?: ExistingEngine;
  readonly engineEnv: Readonly<Record<string, string>>;
  readonly redisUrl?: string;
  readonly serverPort: number;
  readonly out: string;
  readonly compare?: string;
}

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly options: LoadOptions }
  | { readonly kind: 'report'; readonly file: string; readonly compare?: string }
  | { readonly kind: 'apps'; readonly file: string; readonly options: LoadOptions };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function number(name: string, text: string | undefined, fallback: number, check: (n: number) => boolean, what: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`--${name} must be ${what} (got "${text}")`);
  return value;
}

const positive = (n: number): boolean => n > 0;
const wholeAtLeast = (min: number) => (n: number) => Number.isInteger(n) && n >= min;

function defaultOut(now: Date): string {
  return `load-${now.toISOString().replace(/[:.]/g, '-')}.json`;
}

export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, now = new Date()): Command {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        rate: { type: 'string' },
        duration: { type: 'string' },
        flow: { type: 'string' },
        'prompt-ms': { type: 'string' },
        'callback-timeout-ms': { type: 'string' },
        asterisk: { type: 'boolean' },
        fake: { type: 'boolean' },
        'ari-url': { type: 'string' },
        'ari-username': { type: 'string' },
        'ari-password': { type: 'string' },
        'ari-app': { type: 'string' },
        context: { type: 'string' },
        'asterisk-pid': { type: 'string' },
        'asterisk-verbose': { type: 'string' },
        'engine-url': { type: 'string' },
        'engine-pid': { type: 'string' },
        'engine-env': { type: 'string', multiple: true },
        'redis-url': { type: 'string' },
        did: { type: 'string' },
        'server-port': { type: 'string' },
        'apps-out': { type: 'string' },
        warmup: { type: 'string' },
        'call-timeout': { type: 'string' },
        out: { type: 'string' },
        compare: { type: 'string' },
        report: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { kind: 'help' };
  if (values.report !== undefined) return { kind: 'report', file: values.report, ...(values.compare === undefined ? {} : { compare: values.compare }) };

  if (values.asterisk && values.fake) throw new UsageError('--asterisk and --fake exclude each other');
  const target: Target = values.fake ? 'fake' : 'asterisk';
  if (target === 'fake' && (values['ari-url'] !== undefined || values['engine-url'] !== undefined)) {
    throw new UsageError('--fake starts its own fake ARI and engine: it takes neither --ari-url nor --engine-url');
  }

  const flowText = values.flow ?? 'play';
  const flow: FlowChoice = flowText === 'play' || flowText === 'callback' ? { kind: 'builtin', name: flowText } : { kind: 'file', path: flowText };

  let asterisk: ExistingAsterisk | undefined;
  if (values['ari-url'] !== undefined) {
    const password = values['ari-password'] ?? env['ARI_PASSWORD'];
    if (values['ari-username'] === undefined || password === undefined) throw new UsageError('--ari-url needs --ari-username and --ari-password (or ARI_PASSWORD)');
    const pid = values['asterisk-pid'] === undefined ? undefined : number('asterisk-pid', values['asterisk-pid'], 0, wholeAtLeast(1), 'a process id');
    asterisk = { url: values['ari-url'].replace(/\/(ari\/?)?$/, ''), username: values['ari-username'], password, ...(pid === undefined ? {} : { pid }) };
  } else if (values['asterisk-pid'] !== undefined) {
    throw new UsageError('--asterisk-pid is for a running Asterisk (--ari-url)');
  }
  if (values['asterisk-verbose'] !== undefined && (target !== 'asterisk' || asterisk !== undefined)) {
    throw new UsageError('--asterisk-verbose is for the Asterisk the tool starts');
  }
  const asteriskVerbose = values['asterisk-verbose'] === undefined ? undefined : number('asterisk-verbose', values['asterisk-verbose'], 3, wholeAtLeast(0), 'a whole number');
  let engine: ExistingEngine | undefined;
  if (values['engine-url'] !== undefined) {
    if (asterisk === undefined) throw new UsageError('--engine-url needs the Asterisk that engine is connected to (--ari-url)');
    const pid = values['engine-pid'] === undefined ? undefined : number('engine-pid', values['engine-pid'], 0, wholeAtLeast(1), 'a process id');
    engine = { url: values['engine-url'].replace(/\/$/, ''), ...(pid === undefined ? {} : { pid }) };
  } else if (values['engine-pid'] !== undefined) {
    throw new UsageError('--engine-pid is for a running engine (--engine-url)');
  }

  const engineEnv: Record<string, string> = {};
  for (const pair of values['engine-env'] ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--engine-env must be KEY=VALUE (got "${pair}")`);
    engineEnv[pair.slice(0, at)] = pair.slice(at + 1);
  }

  const did = values.did ?? '15551300001';
  if (!/^\+?[0-9]{2,}$/.test(did)) throw new UsageError(`--did must be digits (got "${did}")`);
  const options: LoadOptions = {
    target,
    rate: number('rate', values.rate, 10, positive, 'a number of calls per second above 0'),
    durationSeconds: number('duration', values.duration, 10, positive, 'a number of seconds above 0'),
    flow,
    promptMs: number('prompt-ms', values['prompt-ms'], 1400, wholeAtLeast(100), 'a whole number of ms, at least 100'),
    callbackTimeoutMs: number('callback-timeout-ms', values['callback-timeout-ms'], 5000, (n) => wholeAtLeast(100)(n) && n <= 120_000, 'a whole number of ms from 100 to 120000'),
    warmupCalls: number('warmup', values.warmup, 3, wholeAtLeast(0), 'a whole number'),
    callTimeoutMs: 1000 * number('call-timeout', values['call-timeout'], 30, positive, 'a number of seconds above 0'),
    did,
    ariApp: values['ari-app'] ?? 'opentact',
    context: values.context ?? 'from-trunk',
    ...(asteriskVerbose === undefined ? {} : { asteriskVerbose }),
    ...(asterisk === undefined ? {} : { asterisk }),
    ...(engine === undefined ? {} : { engine }),
    engineEnv,
    ...(values['redis-url'] === undefined ? {} : { redisUrl: values['redis-url'] }),
    serverPort: number('server-port', values['server-port'], 0, (n) => wholeAtLeast(0)(n) && n < 65_536, 'a port number'),
    out: values.out ?? defaultOut(now),
    ...(values.compare === undefined ? {} : { compare: values.compare }),
  };
  if (values['apps-out'] !== undefined) return { kind: 'apps', file: values['apps-out'], options };
  return { kind: 'run', options };
}
