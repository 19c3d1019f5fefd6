// A real SIP softphone for tests: baresip 1.0 from Debian (`apt-get install -y
// baresip-core`), on loopback only, driven over its ctrl_tcp module.
//
// - microphone: the `aufile` module plays a WAV (8 kHz, mono, 16-bit) into the call. Note
//   that baresip ends the call when that file runs out, so give one longer than any call.
// - ears: the `sndfile` module writes what the phone decodes from each call to
//   `<dir>/sound/dump-<start time>-dec.wav` (and what it sends to `…-enc.wav`) when the call
//   ends. The player itself is ALSA's `null` device: nothing is played anywhere.
// - SIP: baresip's own trace (`-s`) lists every message it sends and receives, parsed into
//   `sip` below; its ctrl_tcp events (REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED…) into
//   `events`.
//
// Every wait is bounded; `stop()` quits baresip (then SIGTERM, then SIGKILL) and removes
// its directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavFile } from '../../../lib/media/wav.js';
import { freeTcpPort, freeUdpPort } from '../ports.js';

export const BARESIP_INSTALL_HINT = 'apt-get install -y baresip-core';
/** Where Debian's baresip-core puts its modules. */
export const BARESIP_MODULE_DIR = '/usr/lib/baresip/modules';

export interface SoftphoneOptions {
  /** The registrar's loopback SIP port (UDP). */
  readonly serverPort: number;
  readonly user: string;
  readonly password: string;
  /** The microphone: a WAV of 8 kHz mono 16-bit samples, longer than any call. */
  readonly microphone: string;
  /** The registration interval in seconds (default 60). */
  readonly regint?: number;
}

/** One SIP message from baresip's trace. */
export interface SipMessage {
  /** Wall time the trace line was read (ms since the epoch). */
  readonly at: number;
  readonly direction: 'sent' | 'received';
  readonly source: string;
  readonly destination: string;
  /** `INVITE sip:…` or `SIP/2.0 200 OK`. */
  readonly startLine: string;
  /** The request's method, or for a response the method of its CSeq. */
  readonly method: string;
  /** A response's status code; undefined for a request. */
  readonly status?: number;
  readonly callId: string;
  /** Header values by lower-case name (every occurrence). */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: string;
  readonly text: string;
}

/** One ctrl_tcp event, e.g. `{ type: 'CALL_CLOSED', param: 'Connection reset by peer' }`. */
export interface BaresipEvent {
  readonly at: number;
  readonly type: string;
  readonly class?: string;
  readonly id?: string;
  readonly peeruri?: string;
  readonly param?: string;
  readonly [key: string]: unknown;
}

export class BaresipError extends Error {
  readonly code = 'baresip';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BaresipError';
  }
}

/** The baresip binary, or an error saying how to get it. */
export function baresipBinary(): string {
  const probe = spawnSync('baresip', ['-h'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error !== undefined) {
    throw new BaresipError(`baresip is not installed (${probe.error.message}); install it with: ${BARESIP_INSTALL_HINT}`);
  }
  return 'baresip';
}

/** A header's first value, or undefined. */
export function header(message: SipMessage, name: string): string | undefined {
  return message.headers.get(name.toLowerCase())?.[0];
}

// baresip -s prints each SIP message as ESC[36;1m "#\n<transport> <from> -> <to>\n<message>" ESC[;m.
const TRACE_OPEN = '\x1b[36;1m#\n';
const TRACE_CLOSE = '\x1b[;m';

/** Parses one traced SIP message; undefined when it is not one (e.g. a keep-alive). */
export function parseSipMessage(text: string, at: number, direction: 'sent' | 'received', source: string, destination: string): SipMessage | undefined {
  const normalized = text.replace(/\r\n/g, '\n');
  const split = normalized.indexOf('\n\n');
  const head = split === -1 ? normalized : normalized.slice(0, split);
  const body = split === -1 ? '' : normalized.slice(split + 2);
  const [startLine = '', ...lines] = head.split('\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  const response = /^SIP\/2\.0 (\d{3})\b/.exec(startLine);
  const request = /^([A-Z]+) \S+ SIP\/2\.0$/.exec(startLine);
  if (!response && !request) return undefined;
  const cseq = headers.get('cseq')?.[0] ?? '';
  const method = request?.[1] ?? cseq.split(/\s+/)[1] ?? '';
  return {
    at,
    direction,
    source,
    destination,
    startLine,
    method,
    ...(response ? { status: Number(response[1]) } : {}),
    callId: headers.get('call-id')?.[0] ?? headers.get('i')?.[0] ?? '',
    headers,
    body,
    text: normalized,
  };
}

interface Waiter<T> {
  readonly test: (item: T) => boolean;
  readonly resolve: (item: T) => void;
}

/** A list that grows, and bounded waits for an item of it. */
class Stream<T> {
  readonly items: T[] = [];
  private readonly waiters: Waiter<T>[] = [];
  private failure: Error | undefined;

  push(item: T): void {
    this.items.push(item);
    for (const waiter of this.waiters.filter((w) => w.test(item))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(item);
    }
  }

  /** Fails every wait, now and later (the process is gone). */
  fail(error: Error): void {
    this.failure = error;
  }

  /** The first item, from `from` on, that passes `test`; rejects after `timeoutMs`. */
  wait(test: (item: T) => boolean, timeoutMs: number, what: string, from = 0): Promise<T> {
    const found = this.items.slice(from).find(test);
    if (found !== undefined) return Promise.resolve(found);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        test,
        resolve: (item) => {
          clearTimeout(timer);
          clearInterval(watch);
          resolve(item);
        },
      };
      const give = (error: Error): void => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        clearTimeout(timer);
        clearInterval(watch);
        reject(error);
      };
      const timer = setTimeout(() => give(new BaresipError(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      // The process may die while we wait: notice it without waiting for the time-out.
      const watch = setInterval(() => {
        if (this.failure) give(this.failure);
      }, 100);
      this.waiters.push(waiter);
    });
  }
}

export class Softphone {
  /** Every SIP message baresip sent or received, in order. */
  readonly sip = new Stream<SipMessage>();
  /** Every ctrl_tcp event, in order. */
  readonly events = new Stream<BaresipEvent>();
  /** baresip's console output, ANSI colours removed. */
  readonly output: string[] = [];
  /** The loopback SIP port baresip listens on. */
  readonly sipPort: number;
  /** Where the sndfile module writes what the phone heard and sent. */
  readonly soundDir: string;

  readonly #child: ChildProcess;
  readonly #dir: string;
  #control: net.Socket | undefined;
  #controlBuffer = Buffer.alloc(0);
  #tokens = 0;
  readonly #responses = new Map<string, (response: { ok: boolean; data: string }) => void>();
  #stopping: Promise<void> | undefined;

  private constructor(child: ChildProcess, dir: string, sipPort: number, soundDir: string) {
    this.#child = child;
    this.#dir = dir;
    this.sipPort = sipPort;
    this.soundDir = soundDir;
  }

  /** Starts baresip with a configuration of its own; resolves once ctrl_tcp answers. */
  static async start(options: SoftphoneOptions): Promise<Softphone> {
    const binary = baresipBinary();
    const dir = await mkdtemp(join(tmpdir(), 'opentact-baresip-'));
    const soundDir = join(dir, 'sound');
    await mkdir(soundDir);
    const sipPort = await freeUdpPort();
    const controlPort = await freeTcpPort();
    await writeFile(
      join(dir, 'config'),
      [
        'poll_method epoll',
        // Loopback only: SIP, and the address written into the SDP (RTP).
        'net_interface 127.0.0.1',
        `sip_listen 127.0.0.1:${sipPort}`,
        'sip_trans_def udp',
        `audio_source aufile,${options.microphone}`,
        'audio_player alsa,null',
        'audio_alert alsa,null',
        'audio_srate 8000',
        'audio_channels 1',
        `module_path ${BARESIP_MODULE_DIR}`,
        'module g711.so',
        'module aufile.so',
        'module alsa.so',
        'module sndfile.so',
        `snd_path ${soundDir}`,
        'module_app account.so',
        'module_app menu.so',
        'module_app ctrl_tcp.so',
        `ctrl_tcp_listen 127.0.0.1:${controlPort}`,
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'accounts'),
      `<sip:${options.user}@127.0.0.1:${options.serverPort};transport=udp>;auth_pass=${options.password};regint=${options.regint ?? 60};audio_codecs=PCMU,PCMA\n`,
    );
    await writeFile(join(dir, 'contacts'), '');

    // -s: trace every SIP message on stdout. -f: this configuration, nothing from $HOME.
    const child = spawn(binary, ['-f', dir, '-s'], { cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const phone = new Softphone(child, dir, sipPort, soundDir);
    phone.#readOutput();
    const gone = once(child, 'exit').then(([code, signal]) => {
      const error = new BaresipError(`baresip exited (${String(signal ?? code)}):\n${phone.output.slice(-30).join('\n')}`);
      phone.sip.fail(error);
      phone.events.fail(error);
      return error;
    });
    child.once('error', (error) => phone.output.push(`spawn error: ${error.message}`));
    try {
      await Promise.race([
        phone.#waitForOutput((line) => line.includes('baresip is ready'), 10_000),
        gone.then((error) => {
          throw error;
        }),
      ]);
      await phone.#connect(controlPort);
    } catch (error) {
      await phone.stop();
      throw error;
    }
    return phone;
  }

  #outputWaiters: Waiter<string>[] = [];
  #raw = '';

  #readOutput(): void {
    const onData = (chunk: Buffer): void => {
      const at = Date.now();
      this.#raw += chunk.toString('utf8');
      // Console lines and trace blocks (which span lines) in the order they came.
      for (;;) {
        const open = this.#raw.indexOf(TRACE_OPEN);
        if (open === -1) {
          // \r too: the call's status line rewrites itself with carriage returns.
          const lines = this.#raw.split(/[\r\n]/);
          this.#raw = lines.pop() ?? '';
          this.#consoleLines(lines);
          return;
        }
        this.#consoleLines(this.#raw.slice(0, open).split(/[\r\n]/));
        const close = this.#raw.indexOf(TRACE_CLOSE, open);
        if (close === -1) {
          this.#raw = this.#raw.slice(open);
          return;
        }
        const block = /^(\S+) (\S+) -> (\S+)\n([\s\S]*)$/.exec(this.#raw.slice(open + TRACE_OPEN.length, close));
        this.#raw = this.#raw.slice(close + TRACE_CLOSE.length);
        if (block === null) continue;
        const [, , source = '', destination = '', text = ''] = block;
        const direction = source.endsWith(`:${this.sipPort}`) ? 'sent' : 'received';
        const message = parseSipMessage(text, at, direction, source, destination);
        if (message) this.sip.push(message);
      }
    };
    this.#child.stdout?.on('data', onData);
    this.#child.stderr?.on('data', onData);
  }

  #consoleLines(lines: readonly string[]): void {
    for (const raw of lines) {
      // eslint-disable-next-line no-control-regex
      const line = raw.replace(/\x1b\[[0-9;]*m/g, '').trimEnd();
      // The running call's bit rates, several times a second: not worth keeping.
      if (line === '' || /^\[\d+:\d\d:\d\d\] audio=/.test(line.trim())) continue;
      this.output.push(line);
      for (const waiter of this.#outputWaiters.filter((w) => w.test(line))) {
        this.#outputWaiters.splice(this.#outputWaiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }

  #waitForOutput(test: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const found = this.output.find(test);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new BaresipError(`baresip did not start within ${timeoutMs} ms:\n${this.output.join('\n')}`)), timeoutMs);
      this.#outputWaiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  async #connect(port: number): Promise<void> {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(new BaresipError(`ctrl_tcp on 127.0.0.1:${port} did not accept within 5000 ms`)), 5000);
    try {
      await once(socket, 'connect');
    } finally {
      clearTimeout(timer);
    }
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.#onControlData(chunk));
    this.#control = socket;
  }

  /** Netstrings: `<length>:<JSON>,`. */
  #onControlData(chunk: Buffer): void {
    this.#controlBuffer = Buffer.concat([this.#controlBuffer, chunk]);
    for (;;) {
      const colon = this.#controlBuffer.indexOf(0x3a);
      if (colon === -1) return;
      const length = Number(this.#controlBuffer.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(length)) throw new BaresipError(`ctrl_tcp sent a bad netstring: ${this.#controlBuffer.toString('utf8', 0, 64)}`);
      if (this.#controlBuffer.length < colon + 1 + length + 1) return;
      const json = this.#controlBuffer.subarray(colon + 1, colon + 1 + length).toString('utf8');
      this.#controlBuffer = this.#controlBuffer.subarray(colon + 1 + length + 1);
      const message = JSON.parse(json) as Record<string, unknown>;
      if (message['event'] === true) {
        this.events.push({ ...message, at: Date.now(), type: String(message['type']) } as BaresipEvent);
      } else if (message['response'] === true && typeof message['token'] === 'string') {
        this.#responses.get(message['token'])?.({ ok: message['ok'] === true, data: String(message['data'] ?? '') });
        this.#responses.delete(message['token']);
      }
    }
  }

  /** Runs a baresip command (`dial`, `hangup`, `quit`, …) and gives its answer. */
  command(command: string, params = '', timeoutMs = 5000): Promise<{ ok: boolean; data: string }> {
    const socket = this.#control;
    if (socket === undefined || socket.destroyed) return Promise.reject(new BaresipError('ctrl_tcp is not connected'));
    const token = `t${++this.#tokens}`;
    const json = Buffer.from(JSON.stringify({ command, params, token }), 'utf8');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#responses.delete(token);
        reject(new BaresipError(`baresip did not answer "${command} ${params}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#responses.set(token, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      socket.write(Buffer.concat([Buffer.from(`${json.length}:`, 'latin1'), json, Buffer.from(',', 'latin1')]));
    });
  }

  /** The WAV files the sndfile module has written so far (full paths). */
  async soundFiles(): Promise<string[]> {
    const names = await readdir(this.soundDir).catch(() => [] as string[]);
    return names.filter((name) => name.endsWith('.wav')).sort().map((name) => join(this.soundDir, name));
  }

  /**
   * A recording the sndfile module made of a call that has ended: `dec` is what the phone
   * heard, `enc` what it sent. `known` lists the files there before the call
   * (`soundFiles()`). Resolves once baresip has closed the file (its WAV header then
   * declares all the samples that follow); no event says so, so this polls briefly.
   */
  async recording(known: ReadonlySet<string>, side: 'dec' | 'enc', timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no new file';
    for (;;) {
      const file = (await this.soundFiles()).find((name) => !known.has(name) && name.endsWith(`-${side}.wav`));
      if (file !== undefined) {
        const size = (await stat(file)).size;
        const info = await readWavFile(file).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
        if (!(info instanceof Error) && info.dataBytes > 0 && info.dataOffset + info.dataBytes >= size - 1) return file;
        last = info instanceof Error ? `${file}: ${info.message}` : `${file}: header declares ${info.dataBytes} bytes of ${size - info.dataOffset}`;
      }
      if (Date.now() > deadline) throw new BaresipError(`no finished ${side} recording in ${this.soundDir} within ${timeoutMs} ms (${last})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** Quits baresip (command `quit`, then SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (!this.exited) {
        const exited = once(this.#child, 'exit');
        await this.command('quit', '', 1000).catch(() => undefined);
        const term = setTimeout(() => this.#child.kill('SIGTERM'), 2000);
        const kill = setTimeout(() => this.#child.kill('SIGKILL'), 4000);
        await exited;
        clearTimeout(term);
        clearTimeout(kill);
      }
      this.#control?.destroy();
      await rm(this.#dir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }
}
