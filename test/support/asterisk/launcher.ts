// A real Asterisk 22 for tests, started like the tests start Redis: the binary from
// `ASTERISK_BIN` (or `asterisk` on the PATH), in a temporary directory, on free loopback
// ports, with the project's own `asterisk-config/` files. The copy differs from the
// shipped files only in directories, ports and bind addresses, plus one context for the
// tester's side (see `TESTER_DIALPLAN`), so the configuration a PBX administrator copies
// is the one under test. Secrets reach it as they do in Docker: through the environment
// and `from-env.sh`, found through ASTERISK_CONFIG_DIR.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort, freeUdpPort } from '../ports.js';

export const CONFIG_SOURCE = resolve(import.meta.dirname, '../../../asterisk-config');
export const ARI_USERNAME = 'opentact';

export const HOW_TO_GET_ASTERISK = [
  'no Asterisk 22 to test against: set ASTERISK_BIN to an Asterisk 22 binary or put `asterisk` on the PATH.',
  'Ways to get one:',
  '  - on these machines: ASTERISK_BIN=$(../shared/asterisk/install.sh) npm run test:asterisk',
  '  - the Docker Compose service\'s image: ASTERISK_BIN=$PWD/scripts/asterisk-docker.sh npm run test:asterisk',
  '  - a distribution package of Asterisk 22 (e.g. `apt-get install asterisk` where the distribution ships 22.x), or',
  '  - build 22.x from https://github.com/asterisk/asterisk (./configure && make && make install).',
].join('\n');

/**
 * What the harness adds to the dialplan: `opentact-tester` is where the tester's calls
 * go, `opentact-targets` the engine's test `<Dial>` targets. A call to `<DID>` here sets the caller ID the
 * tester asked for (channel variable TESTER_FROM, inherited from the `;1` half) and then
 * enters the shipped `from-trunk` context exactly like a call from the SIP trunk.
 */
export const TESTER_DIALPLAN = `
; ---- added by the test harness (test/support/asterisk/launcher.ts) ----
[opentact-tester]
exten => _[+0-9].,1,Set(CALLERID(num)=\${TESTER_FROM})
 same => n,Goto(from-trunk,\${EXTEN},1)

; <Dial> targets (DIAL_NUMBER_ENDPOINT=Local/{number}@opentact-targets), one behaviour per
; number: 2001 answers, 2002 is busy, 2003 congested, 2004 rings and never answers;
; 3SMMM rings and answers after S.MMM seconds; 4SMMM answers and hangs up after S.MMM s.
[opentact-targets]
exten => 2001,1,Answer()
 same => n,Wait(300)
 same => n,Hangup()
exten => 2002,1,Busy()
exten => 2003,1,Congestion()
exten => 2004,1,Ringing()
 same => n,Wait(300)
 same => n,Hangup()
exten => _3XXXX,1,Ringing()
 same => n,Wait(\${EXTEN:1:1}.\${EXTEN:2})
 same => n,Answer()
 same => n,Wait(300)
 same => n,Hangup()
exten => _4XXXX,1,Answer()
 same => n,Wait(\${EXTEN:1:1}.\${EXTEN:2})
 same => n,Hangup()
`;

export class AsteriskLauncherError extends Error {
  readonly code = 'asterisk_launcher';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AsteriskLauncherError';
  }
}

export interface AsteriskOptions {
  /** Environment for Asterisk (from-env.sh reads its secrets from there). */
  readonly env?: Readonly<Record<string, string>>;
  /** Bind the SIP transport here (default a free UDP port on 127.0.0.1). */
  readonly sipPort?: number;
}

/** One line Asterisk printed, with the wall time it was read. */
export interface AsteriskLogLine {
  readonly at: number;
  readonly text: string;
}

export interface AsteriskInstance {
  /** `http://127.0.0.1:<port>` (ARI is under /ari). */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly httpPort: number;
  readonly sipPort: number;
  readonly dir: string;
  readonly version: string;
  /** Everything Asterisk printed, line by line. */
  readonly log: readonly AsteriskLogLine[];
  /** Lines printed since `at` (ms since the epoch). */
  logSince(at: number): string[];
  /** Runs an Asterisk CLI command through `-rx` and gives its output. */
  cli(command: string): string;
  /** GET/POST/DELETE on ARI with the test user, bounded by `timeoutMs`; the parsed JSON or null. */
  ari(method: string, path: string, timeoutMs?: number): Promise<{ status: number; body: unknown }>;
  readonly exited: boolean;
  /** Stops Asterisk (`core stop now`, then SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

/** The Asterisk binary to run, or an error saying how to get one. */
export function asteriskBinary(): string {
  const fromEnv = process.env['ASTERISK_BIN'];
  const candidate = fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'asterisk';
  const probe = spawnSync(candidate, ['-V'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    const why = fromEnv ? `ASTERISK_BIN=${fromEnv} does not run (${probe.error?.message ?? probe.stderr.trim()})` : '`asterisk` is not on the PATH';
    throw new AsteriskLauncherError(`${why}\n${HOW_TO_GET_ASTERISK}`);
  }
  const version = probe.stdout.trim();
  if (!/^Asterisk 22\./.test(version)) {
    throw new AsteriskLauncherError(`${candidate} is ${version}; the suite needs Asterisk 22.x\n${HOW_TO_GET_ASTERISK}`);
  }
  return candidate;
}

/** A temporary directory whose path holds no dot (Asterisk 22.10.1's media cache needs that). */
async function dotlessTempDir(): Promise<string> {
  const base = tmpdir().includes('.') ? '/tmp' : tmpdir();
  const dir = await mkdtemp(join(base, 'opentact-asterisk-'));
  if (dir.includes('.')) throw new AsteriskLauncherError(`temporary directory ${dir} holds a dot; set TMPDIR to a path without one`);
  return dir;
}

function replaceLine(text: string, file: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(text)) throw new AsteriskLauncherError(`asterisk-config/${file}: no line matches ${pattern}; the harness must be updated with it`);
  return text.replace(pattern, replacement);
}

interface Layout {
  readonly etc: string;
  readonly httpPort: number;
  readonly sipPort: number;
  readonly rtpStart: number;
}

/** Copies asterisk-config/ and changes only directories, ports and bind addresses. */
async function writeConfig(dir: string, layout: Layout): Promise<void> {
  const { etc } = layout;
  await cp(CONFIG_SOURCE, etc, { recursive: true });
  const subdirs = { astetcdir: etc, astrundir: join(dir, 'run'), astlogdir: join(dir, 'log'), astspooldir: join(dir, 'spool'), astdbdir: join(dir, 'db'), astcachedir: join(dir, 'cache') };
  for (const path of Object.values(subdirs)) await mkdir(path, { recursive: true });
  await mkdir(join(dir, 'spool', 'recording'), { recursive: true });

  const edit = async (file: string, change: (text: string) => string): Promise<void> => {
    const path = join(etc, file);
    await writeFile(path, change(await readFile(path, 'utf8')));
  };
  await edit('asterisk.conf', (text) =>
    replaceLine(text, 'asterisk.conf', /^astcachedir\s*=>.*$/m, Object.entries(subdirs).map(([key, value]) => `${key} => ${value}`).join('\n')),
  );
  await edit('http.conf', (text) =>
    replaceLine(replaceLine(text, 'http.conf', /^bindaddr\s*=.*$/m, 'bindaddr = 127.0.0.1'), 'http.conf', /^bindport\s*=.*$/m, `bindport = ${layout.httpPort}`),
  );
  await edit('pjsip.conf', (text) => replaceLine(text, 'pjsip.conf', /^bind\s*=\s*0\.0\.0\.0:5060$/m, `bind = 127.0.0.1:${layout.sipPort}`));
  await edit('rtp.conf', (text) =>
    replaceLine(
      replaceLine(text, 'rtp.conf', /^rtpstart\s*=.*$/m, `rtpstart = ${layout.rtpStart}`),
      'rtp.conf',
      /^rtpend\s*=.*$/m,
      `rtpend = ${layout.rtpStart + 199}`,
    ),
  );
  await edit('extensions.conf', (text) => text + TESTER_DIALPLAN);
}

/** Resolves when ARI answers the ping with the test user; rejects when Asterisk exits or time runs out. */
async function whenAriAnswers(instance: AsteriskInstance, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new AsteriskLauncherError(`Asterisk exited (${String(signal ?? code)}) before ARI answered:\n${instance.log.map((l) => l.text).join('\n')}`);
  });
  exited.catch(() => undefined);
  while (Date.now() < deadline) {
    if (instance.exited) await exited;
    const answer = await instance.ari('GET', '/ari/asterisk/ping', 1000).catch(() => undefined);
    if (answer?.status === 200) return;
    // Nothing to await: Asterisk announces no readiness on its own; poll every 100 ms.
    await sleep(100);
  }
  throw new AsteriskLauncherError(`ARI did not answer within ${timeoutMs} ms:\n${instance.log.slice(-40).map((l) => l.text).join('\n')}`);
}

/** Starts an Asterisk of its own; resolves once ARI answers. */
export async function startAsterisk(options: AsteriskOptions = {}): Promise<AsteriskInstance> {
  const binary = asteriskBinary();
  const version = spawnSync(binary, ['-V'], { encoding: 'utf8' }).stdout.trim();
  const dir = await dotlessTempDir();
  const etc = join(dir, 'etc');
  const httpPort = await freeTcpPort();
  const sipPort = options.sipPort ?? (await freeUdpPort());
  // An even RTP range somewhere in 20000-59800, unlikely to meet another instance's.
  const rtpStart = 20_000 + 2 * Math.floor(Math.random() * 19_900);
  await writeConfig(dir, { etc, httpPort, sipPort, rtpStart });

  const password = `test-ari-${Math.random().toString(36).slice(2)}`;
  const conf = join(etc, 'asterisk.conf');
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    ASTERISK_CONFIG_DIR: etc,
    ARI_PASSWORD: password,
    // As docker-compose.yml sets them: every #exec line of the shipped files has its value.
    SOFTPHONE_PASSWORD: `test-sip-${Math.random().toString(36).slice(2)}`,
    ASTERISK_EXTERNAL_ADDRESS: '127.0.0.1',
    ...options.env,
  };
  // -f foreground (its output is the log), -n no colours, -vvv the verbosity the Docker
  // image uses: a line per dialplan step, which is what a failing test wants to show.
  const child = spawn(binary, ['-C', conf, '-f', '-n', '-vvv'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: AsteriskLogLine[] = [];
  let partial = '';
  const onData = (chunk: Buffer): void => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    const at = Date.now();
    for (const text of lines) if (text.trim() !== '') log.push({ at, text });
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  // asteriskBinary() ran it already; an error now (e.g. EMFILE) is kept in the log.
  child.on('error', (error) => log.push({ at: Date.now(), text: `spawn error: ${error.message}` }));

  const url = `http://127.0.0.1:${httpPort}`;
  // http.conf's sessionlimit (100) is shared with the engine's connections (50): the
  // tests' own requests stay well under the rest, or Asterisk closes the surplus.
  const slots = new Slots(16);
  const auth = `Basic ${Buffer.from(`${ARI_USERNAME}:${password}`).toString('base64')}`;
  let stopping: Promise<void> | undefined;
  const instance: AsteriskInstance = {
    url,
    username: ARI_USERNAME,
    password,
    httpPort,
    sipPort,
    dir,
    version,
    log,
    logSince: (at) => log.filter((line) => line.at >= at).map((line) => line.text),
    cli: (command) => {
      const out = spawnSync(binary, ['-C', conf, '-rx', command], { encoding: 'utf8', env, timeout: 10_000 });
      return `${out.stdout}${out.stderr}`;
    },
    ari: async (method, path, timeoutMs = 5000) => {
      const signal = AbortSignal.timeout(timeoutMs);
      const text = await slots.run(signal, async () => {
        const response = await fetch(`${url}${path}`, { method, headers: { authorization: auth }, signal });
        return { status: response.status, text: await response.text() };
      });
      const response = { status: text.status };
      let body: unknown = null;
      try {
        body = text.text === '' ? null : JSON.parse(text.text);
      } catch {
        body = text.text;
      }
      return { status: response.status, body };
    },
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    stop: () => {
      stopping ??= (async () => {
        if (!instance.exited) {
          const exited = once(child, 'exit');
          instance.cli('core stop now');
          const term = setTimeout(() => child.kill('SIGTERM'), 5000);
          const kill = setTimeout(() => child.kill('SIGKILL'), 8000);
          await exited;
          clearTimeout(term);
          clearTimeout(kill);
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  try {
    await whenAriAnswers(instance, child, 30_000);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  return instance;
}

/** At most `size` tasks at once; the others wait their turn (or their signal). */
class Slots {
  private free: number;
  private readonly queue: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else {
      await new Promise<void>((resolve, reject) => {
        const turn = (): void => {
          signal.removeEventListener('abort', giveUp);
          resolve();
        };
        const giveUp = (): void => {
          this.queue.splice(this.queue.indexOf(turn), 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', giveUp, { once: true });
        this.queue.push(turn);
      });
    }
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}
