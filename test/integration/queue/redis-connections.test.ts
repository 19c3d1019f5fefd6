// Issue 11, "Readiness and Redis": the connection forms an operator uses, against real
// redis-servers: rediss:// with a self-signed certificate trusted through
// REDIS_TLS_CA_FILE, a password (in the URL, or REDIS_PASSWORD), and maxmemory-policy
// read at start (anything but noeviction logged as an error), and Redis Sentinel.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../../lib/config/index.js';
import { checkEvictionPolicy, pingRedis } from '../../../lib/queue/index.js';
import { freeTcpPort } from '../../support/ports.js';
import { RecordingLogger } from '../../support/silent-logger.js';

/** A redis-server with these options (after a configuration file, which must come first). */
async function startServer(args: readonly string[], configFile?: string): Promise<ChildProcess> {
  const first = configFile === undefined ? [] : [configFile];
  const child = spawn('redis-server', [...first, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server not ready within 10 s:\n${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      // A sentinel says it monitors its master instead of "Ready to accept connections".
      if (output.includes('Ready to accept connections') || output.includes('+monitor master')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${String(code)}):\n${output}`));
    });
  });
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

describe('Redis connection forms (real redis-servers)', function () {
  this.timeout(30_000);
  let dir: string;
  let tls: ChildProcess | undefined;
  let secured: ChildProcess | undefined;
  let master: ChildProcess | undefined;
  let sentinel: ChildProcess | undefined;
  let tlsPort: number;
  let pwPort: number;
  let masterPort: number;
  let sentinelPort: number;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-redis-forms-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    tlsPort = await freeTcpPort();
    tls = await startServer([
      '--port', '0', '--tls-port', String(tlsPort), '--tls-cert-file', path.join(dir, 'cert.pem'), '--tls-key-file', path.join(dir, 'key.pem'),
      '--tls-ca-cert-file', path.join(dir, 'cert.pem'), '--tls-auth-clients', 'no', '--dir', dir, '--maxmemory-policy', 'allkeys-lru',
    ]);
    pwPort = await freeTcpPort();
    secured = await startServer(['--port', String(pwPort), '--requirepass', 's3cret-pw', '--dir', dir]);
    masterPort = await freeTcpPort();
    master = await startServer(['--port', String(masterPort), '--dir', dir]);
    // A sentinel rewrites its configuration file: it gets one of its own in the directory.
    sentinelPort = await freeTcpPort();
    const sentinelConf = path.join(dir, 'sentinel.conf');
    await writeFile(sentinelConf, `port ${sentinelPort}\nsentinel monitor opentact-master 127.0.0.1 ${masterPort} 1\n`);
    sentinel = await startServer(['--sentinel', '--dir', dir], sentinelConf);
  });

  after(async function () {
    await stop(tls);
    await stop(secured);
    await stop(sentinel);
    await stop(master);
    await rm(dir, { recursive: true, force: true });
  });

  it('rediss:// with REDIS_TLS_CA_FILE answers PING; without the CA the certificate is refused', async function () {
    const url = `rediss://127.0.0.1:${tlsPort}`;
    const config = loadConfig({ REDIS_URL: url, REDIS_TLS_CA_FILE: path.join(dir, 'cert.pem') });
    expect(config.redis).to.not.equal(undefined);
    await pingRedis(config.redis ?? url, AbortSignal.timeout(5000));
    const refused = await pingRedis(url, AbortSignal.timeout(5000)).then(() => 'answered', (error: Error) => error.message);
    expect(refused).to.match(/self-signed|certificate/i);
  });

  it('reads maxmemory-policy over TLS and logs anything but noeviction as an error, once, with why', async function () {
    const config = loadConfig({ REDIS_URL: `rediss://127.0.0.1:${tlsPort}`, REDIS_TLS_CA_FILE: path.join(dir, 'cert.pem') });
    const log = new RecordingLogger();
    expect(await checkEvictionPolicy(config.redis ?? '', log)).to.equal('allkeys-lru');
    const errors = log.entries.filter((e) => e.level === 'error');
    expect(errors).to.have.length(1);
    expect(errors[0]?.msg).to.include('an evicted key is a lost callback job');
  });

  it('a password in the URL or in REDIS_PASSWORD; none is refused; the password is a secret the logger knows', async function () {
    await pingRedis(`redis://:s3cret-pw@127.0.0.1:${pwPort}`, AbortSignal.timeout(5000));
    const config = loadConfig({ REDIS_URL: `redis://127.0.0.1:${pwPort}`, REDIS_PASSWORD: 's3cret-pw' });
    await pingRedis(config.redis ?? '', AbortSignal.timeout(5000));
    expect(config.secretValues).to.include('s3cret-pw');
    const refused = await pingRedis(`redis://127.0.0.1:${pwPort}`, AbortSignal.timeout(5000)).then(() => 'answered', (error: Error) => error.message);
    expect(refused).to.match(/NOAUTH|auth/i);
    const log = new RecordingLogger();
    expect(await checkEvictionPolicy(config.redis ?? '', log)).to.equal('noeviction');
    expect(log.entries.filter((e) => e.level === 'error')).to.deep.equal([]);
  });

  it('Redis Sentinel: REDIS_SENTINELS and REDIS_SENTINEL_NAME find the master, which answers; an unknown name is refused', async function () {
    const config = loadConfig({ REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'opentact-master' });
    expect(config.redis).to.not.equal(undefined);
    await pingRedis(config.redis ?? '', AbortSignal.timeout(5000));
    const log = new RecordingLogger();
    expect(await checkEvictionPolicy(config.redis ?? '', log)).to.equal('noeviction');
    const unknown = loadConfig({ REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'no-such-master' });
    const refused = await pingRedis(unknown.redis ?? '', AbortSignal.timeout(1500)).then(() => 'answered', (error: Error) => error.message);
    expect(refused).to.not.equal('answered');
  });
});
