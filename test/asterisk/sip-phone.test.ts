// The Docker demo, as docker-compose.yml wires it, without Docker, proven by a real SIP
// phone: a private Asterisk 22 with the shipped asterisk-config/ (passwords and the external
// address reach it through from-env.sh, as in the `asterisk` service), Redis, the demo
// callback server (the `demo` service) and the engine (the `app` service) with
// scripts/demo-apps.yaml, its compose host names pointed at loopback. Then baresip, a
// softphone from Debian, registers as `softphone` and dials what a person would dial.
// Everything stays on 127.0.0.1.
//
// Needs, besides Asterisk: baresip (apt-get install -y baresip-core), sox and espeak-ng
// (the engine's speech), redis-server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { readWavFile } from '../../lib/media/wav.js';
import { JsonLog, stopChild } from '../support/child-log.js';
import { EspeakEngine } from '../../lib/tts/index.js';
import { saysOf } from '../../lib/tts/says.js';
import { parseDocument, type SayVerb } from '../../lib/xml/index.js';
import { menuDocument, startDocument } from '../../scripts/demo-server.js';
import { startAsterisk, type AsteriskInstance } from '../support/asterisk/index.js';
import { freeTcpPort } from '../support/ports.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis.js';
import { silentLogger } from '../support/silent-logger.js';
import { baresipBinary, header, Softphone, type SipMessage } from '../support/sip/baresip.js';
import { pcmWav } from '../support/wav.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APPS_SOURCE = path.join(ROOT, 'scripts/demo-apps.yaml');
/** The demo's texts do not depend on its URL. */
const DEMO_URL_FOR_TEXTS = 'http://demo.invalid';
/** The caller ID of the `softphone` endpoint in asterisk-config/pjsip.conf. */
const SOFTPHONE_CALLER_ID = '15550001111';
/** A number with no app: extensions.conf's `_XXXXX.` sends it to the engine all the same. */
const UNKNOWN_NUMBER = '15559999999';
/** How long a call of the demo may take, from dialling to the engine's hang-up. */
const CALL_TIMEOUT_MS = 30_000;

/** `sox <file> -n stat`: length in seconds and RMS amplitude (0 silence, 1 full scale). */
function soxStat(file: string): { seconds: number; rms: number; text: string } {
  const run = spawnSync('sox', [file, '-n', 'stat'], { encoding: 'utf8', timeout: 10_000 });
  if (run.error !== undefined) throw new Error(`sox did not run (${run.error.message}); install it with: apt-get install -y sox`);
  const text = `${run.stdout}${run.stderr}`;
  const value = (label: RegExp): number => {
    const match = label.exec(text);
    if (!match?.[1]) throw new Error(`sox stat printed no ${String(label)}:\n${text}`);
    return Number(match[1]);
  };
  return { seconds: value(/^Length \(seconds\):\s*([\d.]+)/m), rms: value(/^RMS\s+amplitude:\s*([\d.]+)/m), text };
}

/** Seconds of speech the engine's espeak-ng renders for these Says (8 kHz mono 16-bit). */
async function spokenSeconds(says: readonly SayVerb[], dir: string): Promise<number> {
  const engine = await EspeakEngine.create({ log: silentLogger });
  let seconds = 0;
  for (const [index, say] of says.entries()) {
    const file = path.join(dir, `say-${index}.wav`);
    await engine.synthesize(say.text, say.voice, file, AbortSignal.timeout(10_000));
    const info = await readWavFile(file);
    seconds += (say.loop || 1) * (info.dataBytes / (info.sampleRate * info.channels * (info.bitsPerSample / 8)));
  }
  return seconds;
}

describe('The Docker demo with a real SIP phone (baresip) on Asterisk 22', function () {
  this.timeout(60_000);
  let dir: string;
  let asterisk: AsteriskInstance | undefined;
  let demo: ChildProcess | undefined;
  let demoLog: JsonLog;
  let demoErrors: JsonLog;
  let engine: ChildProcess | undefined;
  let engineLog: JsonLog;
  let phone: Softphone | undefined;
  let testStarted = Date.now();
  /** Seconds of speech each number should play, rendered as the engine renders it. */
  const expected = { callback: 0, static: 0 };

  before(async function () {
    this.timeout(60_000);
    // The tools this test needs beyond Asterisk and Redis, before starting anything.
    baresipBinary();
    for (const [tool, hint] of [['sox', 'sox'], ['espeak-ng', 'espeak-ng']] as const) {
      const probe = spawnSync(tool, ['--version'], { timeout: 10_000 });
      if (probe.error !== undefined) throw new Error(`${tool} is not installed; install it with: apt-get install -y ${hint}`);
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-sip-phone-'));
    // What the two demo numbers say, rendered by espeak-ng the way the engine renders it.
    // 100: the greeting of /start, then /menu (which replaces the flow) to its end: the
    // caller's number, the announcement, and the <Error> branch of the failing callback.
    const start = saysOf(parseDocument(startDocument(DEMO_URL_FOR_TEXTS)));
    const menu = saysOf(parseDocument(menuDocument(DEMO_URL_FOR_TEXTS, SOFTPHONE_CALLER_ID)));
    expected.callback = await spokenSeconds([start[0] as SayVerb, ...menu], dir);
    // 101: the static document, but for the branch of a withheld number (ours is not).
    const demoApps = parseYaml(await readFile(APPS_SOURCE, 'utf8')) as { apps: { numbers: string[]; xml?: string }[] };
    const staticXml = demoApps.apps.find((app) => app.numbers.includes('15551230001'))?.xml;
    if (staticXml === undefined) throw new Error('scripts/demo-apps.yaml: no static document for 15551230001');
    const staticSays = saysOf(parseDocument(staticXml)).filter((say) => !/withheld/.test(say.text));
    expected.static = await spokenSeconds(staticSays, dir);

    const softphonePassword = `phone-${Math.random().toString(36).slice(2)}`;
    asterisk = await startAsterisk({ env: { SOFTPHONE_PASSWORD: softphonePassword } });
    const redisUrl = await sharedRedisUrl();

    // The `demo` service: PORT, and DEMO_BASE_URL the URL the engine reaches it at.
    const demoPort = await freeTcpPort();
    const demoUrl = `http://127.0.0.1:${demoPort}`;
    demo = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo-server.ts'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], PORT: String(demoPort), DEMO_BASE_URL: demoUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demoLog = new JsonLog(demo.stdout);
    demoErrors = new JsonLog(demo.stderr);
    await demoLog.waitFor((l) => l['event'] === 'listening', 20_000, 'demo server listening');

    // scripts/demo-apps.yaml with its compose host names (http://demo:3000) on loopback.
    const apps = await readFile(APPS_SOURCE, 'utf8');
    const rewritten = apps.replace(/http:\/\/demo:3000\b/g, demoUrl);
    expect(rewritten, 'demo-apps.yaml names http://demo:3000').to.not.equal(apps);
    expect(rewritten, 'no compose host name left in the apps file').to.not.match(/https?:\/\/(demo|app|asterisk|redis)[:/]/);
    const appsFile = path.join(dir, 'apps.yaml');
    await writeFile(appsFile, rewritten);

    // The `app` service: its environment, with the addresses of this machine's services.
    const httpPort = await freeTcpPort();
    engine = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', 'start'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'],
        ARI_URL: asterisk.url,
        ARI_USERNAME: asterisk.username,
        ARI_PASSWORD: asterisk.password,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: uniquePrefix('sip-phone'),
        APPS_FILE: appsFile,
        OUTBOUND_ALLOW: '127.0.0.0/8',
        HTTP_PORT: String(httpPort),
        PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
        MEDIA_CACHE_DIR: path.join(dir, 'media'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    engineLog = new JsonLog(engine.stderr);
    await engineLog.waitFor((l) => l.msg === 'ARI connected', 30_000, 'engine connected to ARI');

    // The microphone: two minutes of silence, longer than any call (baresip's aufile
    // ends the call when its file runs out).
    const microphone = path.join(dir, 'microphone.wav');
    await writeFile(microphone, pcmWav(Buffer.alloc(2 * 8000 * 120), 8000));
    phone = await Softphone.start({ serverPort: asterisk.sipPort, user: 'softphone', password: softphonePassword, microphone });
  });

  beforeEach(function () {
    testStarted = Date.now();
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    const section = (title: string, lines: readonly string[]): string => `---- ${title} (${lines.length} lines) ----\n${lines.join('\n')}\n`;
    process.stderr.write(
      [
        section("Asterisk's log during the test", asterisk?.logSince(testStarted - 50) ?? []),
        section("the engine's last log lines", engineLog?.text.slice(-40) ?? []),
        section("the demo server's log", [...(demoLog?.text ?? []), ...(demoErrors?.text ?? [])]),
        section("baresip's console", phone?.output.slice(-60) ?? []),
        section('SIP messages seen by baresip', (phone?.sip.items ?? []).filter((m) => m.at >= testStarted - 50).map((m) => `${m.direction} ${m.startLine}`)),
      ].join(''),
    );
  });

  after(async function () {
    this.timeout(30_000);
    await phone?.stop();
    await stopChild(engine);
    await stopChild(demo);
    await asterisk?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Dials `number`; resolves with what the phone saw once the call is over. */
  async function call(number: string): Promise<{ messages: SipMessage[]; established: boolean; closedParam: string; heard?: string }> {
    if (phone === undefined || asterisk === undefined) throw new Error('before() failed');
    const fromEvent = phone.events.items.length;
    const fromSip = phone.sip.items.length;
    const filesBefore = new Set(await phone.soundFiles());
    const dial = await phone.command('dial', `sip:${number}@127.0.0.1:${asterisk.sipPort}`);
    expect(dial.ok, `baresip's dial command: ${dial.data}`).to.equal(true);
    const closed = await phone.events.wait((e) => e.type === 'CALL_CLOSED', CALL_TIMEOUT_MS, `end of the call to ${number}`, fromEvent);
    const established = phone.events.items.slice(fromEvent).some((e) => e.type === 'CALL_ESTABLISHED');
    const messages = phone.sip.items.slice(fromSip).filter((m) => m.callId === phone?.sip.items.slice(fromSip).find((i) => i.method === 'INVITE')?.callId);
    if (!established) return { messages, established, closedParam: closed.param ?? '' };
    return { messages, established, closedParam: closed.param ?? '', heard: await phone.recording(filesBefore, 'dec') };
  }

  /** The BYE Asterisk sent the phone, with its Q.850 cause. */
  function byeFromAsterisk(messages: readonly SipMessage[]): { bye: SipMessage; cause: number | undefined } {
    const bye = messages.find((m) => m.direction === 'received' && m.method === 'BYE' && m.status === undefined);
    expect(bye, 'a BYE from Asterisk').to.not.equal(undefined);
    const reason = header(bye as SipMessage, 'reason') ?? '';
    const cause = /Q\.850\s*;\s*cause=(\d+)/i.exec(reason)?.[1];
    return { bye: bye as SipMessage, cause: cause === undefined ? undefined : Number(cause) };
  }

  function expectHeardSpeech(file: string, expectedSeconds: number, what: string): void {
    const stat = soxStat(file);
    // Not silence: espeak-ng's speech through G.711 is well above 0.01 of full scale RMS.
    expect(stat.rms, `${what}: RMS amplitude of what the phone heard\n${stat.text}`).to.be.greaterThan(0.01);
    // Roughly the demo's prompts: what was received is the rendered speech, give or take
    // the first packets and a pause between prompts.
    expect(stat.seconds, `${what}: seconds heard vs ${expectedSeconds.toFixed(2)} s of rendered speech`).to.be.within(expectedSeconds * 0.8 - 0.5, expectedSeconds + 3);
  }

  it('registers as `softphone`: 200 OK to REGISTER, and Asterisk lists the contact', async function () {
    if (phone === undefined || asterisk === undefined) throw new Error('before() failed');
    const ok = await phone.sip.wait((m) => m.direction === 'received' && m.method === 'REGISTER' && m.status === 200, 10_000, '200 OK to REGISTER');
    expect(header(ok, 'contact')).to.include(`@127.0.0.1:${phone.sipPort}`);
    // Asterisk's view: the contact is bound to the AOR `softphone`, and answers its
    // qualify OPTIONS (status Avail). The CLI's table cuts the URI short: the full one is
    // in the log line. No event says when the qualify answer is in: poll briefly.
    const added = new RegExp(`Added contact 'sip:softphone-\\S*@127\\.0\\.0\\.1:${phone.sipPort}' to AOR 'softphone'`);
    const available = /softphone\/sip:softphone\S*@127\.0\.0\S*\s+\S+\s+Avail\b/;
    let contacts = '';
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      contacts = asterisk.cli('pjsip show contacts');
      if (available.test(contacts) && asterisk.log.some((line) => added.test(line.text))) break;
    }
    expect(asterisk.log.map((line) => line.text).join('\n')).to.match(added);
    expect(contacts).to.match(available).and.match(/Objects found: 1\b/);
  });

  it('100: answered, the demo callback flow is heard, and the engine hangs up with cause 16', async function () {
    const result = await call('100');
    expect(result.established, `the call was answered (closed with "${result.closedParam}")`).to.equal(true);
    const answer = result.messages.find((m) => m.direction === 'received' && m.method === 'INVITE' && m.status === 200);
    expect(answer?.body, 'SDP of the answer: G.711 on loopback').to.match(/^c=IN IP4 127\.0\.0\.1$/m).and.match(/^m=audio \d+ RTP\/AVP 0\b/m);
    const { cause } = byeFromAsterisk(result.messages);
    expect(cause, 'Q.850 cause of the BYE').to.equal(16);
    expectHeardSpeech(result.heard as string, expected.callback, '100');
    // The flow ran through the demo server: /start, /menu, and /broken failing.
    const paths = demoLog.lines.filter((l) => typeof l['path'] === 'string' && Date.parse(String(l['time'])) >= testStarted - 1000).map((l) => `${String(l['path'])} ${String(l['status'])}`);
    expect(paths).to.include.members(['/start 200', '/menu 200', '/broken 500']);
    expect(engineLog.lines.some((l) => l.msg === 'hanging up' && l['cause'] === 'normal_clearing' && l['tag'] === 'demo-done')).to.equal(true);
  });

  it('101: answered, the static flow is heard, and the engine hangs up with cause 16', async function () {
    const result = await call('101');
    expect(result.established, `the call was answered (closed with "${result.closedParam}")`).to.equal(true);
    const { cause } = byeFromAsterisk(result.messages);
    expect(cause, 'Q.850 cause of the BYE').to.equal(16);
    expectHeardSpeech(result.heard as string, expected.static, '101');
    expect(engineLog.lines.some((l) => l.msg === 'hanging up' && l['cause'] === 'normal_clearing' && l['tag'] === 'static-done')).to.equal(true);
  });

  it(`${UNKNOWN_NUMBER} (no app): refused unanswered with 404 Not Found, cause 1`, async function () {
    const result = await call(UNKNOWN_NUMBER);
    expect(result.established, 'the call was never answered').to.equal(false);
    const final = result.messages.filter((m) => m.direction === 'received' && m.method === 'INVITE' && (m.status ?? 0) >= 300 && m.status !== 401 && m.status !== 407);
    expect(final.map((m) => m.startLine)).to.deep.equal(['SIP/2.0 404 Not Found']);
    const reason = header(final[0] as SipMessage, 'reason') ?? '';
    expect(reason).to.match(/^Q\.850;cause=1\b/i);
    expect(result.closedParam).to.match(/^404\b/);
    expect(engineLog.lines.some((l) => /^no Call Control App for the number/.test(l.msg ?? '') && l['did'] === UNKNOWN_NUMBER && l['from'] === SOFTPHONE_CALLER_ID)).to.equal(true);
  });
});
