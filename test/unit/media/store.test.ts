import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryLocator, httpLocator, MediaLocatorError } from '../../../lib/media/locator.js';
import { MediaStore, MediaStoreError, type Producer } from '../../../lib/media/store.js';
import { RecordingLogger, silentLogger } from '../../support/silent-logger.js';

const LONG = { timeoutMs: 5000 };

/** A producer that writes `bytes` bytes of `fill` and counts its calls. */
function counting(bytes = 100, fill = 1): Producer & { calls: number } {
  const producer = async (tmpPath: string): Promise<void> => {
    producer.calls++;
    await writeFile(tmpPath, Buffer.alloc(bytes, fill));
  };
  producer.calls = 0;
  return producer;
}

/** A producer that waits until released (or aborted), then writes. */
function gated(): { producer: Producer; release: () => void; started: Promise<AbortSignal>; calls: () => number } {
  let release!: () => void;
  let markStarted!: (signal: AbortSignal) => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const started = new Promise<AbortSignal>((resolve) => (markStarted = resolve));
  let calls = 0;
  const producer: Producer = async (tmpPath, signal) => {
    calls++;
    await writeFile(tmpPath, 'partial');
    markStarted(signal);
    await gate;
    await writeFile(tmpPath, Buffer.alloc(50, 7));
  };
  return { producer, release, started, calls: () => calls };
}

describe('MediaStore', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'media-store-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const open = (maxBytes = 1_000_000, log = silentLogger) => MediaStore.open({ dir, maxBytes, log });

  it('names files by the sha256 of their key', () => {
    expect(MediaStore.idFor('abc')).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('produces on a miss, serves the same file on a hit without producing again', async () => {
    const store = await open();
    const producer = counting(100);
    const first = await store.obtain('key', producer, LONG);
    expect(first).to.deep.equal({ id: MediaStore.idFor('key'), path: join(dir, `${MediaStore.idFor('key')}.wav`), bytes: 100 });
    expect((await stat(first.path)).size).to.equal(100);
    const second = await store.obtain('key', producer, LONG);
    expect(second).to.deep.equal(first);
    expect(producer.calls).to.equal(1);
    expect(store.size).to.equal(100);
    expect(await readdir(dir)).to.deep.equal([`${first.id}.wav`]);
  });

  it('runs one production for 50 concurrent callers of the same key', async () => {
    const store = await open();
    const producer = counting(64);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.obtain('same', producer, LONG)));
    expect(producer.calls).to.equal(1);
    expect(new Set(results.map((r) => r.path)).size).to.equal(1);
  });

  it('produces again when the file was removed behind its back', async () => {
    const store = await open();
    const producer = counting(10);
    const media = await store.obtain('k', producer, LONG);
    await rm(media.path);
    await store.obtain('k', producer, LONG);
    expect(producer.calls).to.equal(2);
    expect(store.size).to.equal(10);
  });

  it('evicts the least recently used files when the total passes the cap', async () => {
    const store = await open(300);
    const a = await store.obtain('a', counting(100), LONG);
    const b = await store.obtain('b', counting(100), LONG);
    const c = await store.obtain('c', counting(100), LONG);
    expect(store.get(a.id)).to.deep.equal(a); // a is now more recent than b
    const d = await store.obtain('d', counting(100), LONG);
    expect(store.size).to.equal(300);
    expect(store.get(b.id)).to.equal(undefined);
    await expectGone(b.path);
    for (const kept of [a, c, d]) expect(store.get(kept.id)).to.deep.equal(kept);
    await store.obtain('c', counting(100), LONG); // a hit makes c the most recent
    await store.obtain('e', counting(100), LONG);
    expect(store.get(a.id)).to.equal(undefined);
    expect(store.get(c.id)).to.not.equal(undefined);
  });

  it('keeps a file larger than the cap until the next one arrives', async () => {
    const store = await open(100);
    const big = await store.obtain('big', counting(500), LONG);
    expect(store.get(big.id)).to.deep.equal(big);
    await store.obtain('small', counting(50), LONG);
    expect(store.get(big.id)).to.equal(undefined);
    expect(store.size).to.equal(50);
  });

  it('gives every waiter the producer error and leaves nothing behind', async () => {
    const store = await open();
    let calls = 0;
    const failing: Producer = async (tmpPath) => {
      calls++;
      await writeFile(tmpPath, 'half a file');
      throw new Error('engine broke');
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => store.obtain('bad', failing, LONG)));
    expect(calls).to.equal(1);
    for (const result of results) {
      expect(result.status).to.equal('rejected');
      if (result.status === 'rejected') expect((result.reason as Error).message).to.equal('engine broke');
    }
    expect(await readdir(dir)).to.deep.equal([]);
    expect(store.size).to.equal(0);
    // A failure is not cached: the next caller produces again.
    await store.obtain('bad', counting(5), LONG);
  });

  it('refuses an empty result', async () => {
    const store = await open();
    const empty: Producer = (tmpPath) => writeFile(tmpPath, '');
    const error = await store.obtain('empty', empty, LONG).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MediaStoreError).with.property('code', 'empty');
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('aborts a production at its time limit, removes its file and rejects every waiter', async () => {
    const store = await open();
    const slow = gated();
    const waiters = [store.obtain('slow', slow.producer, { timeoutMs: 100 }), store.obtain('slow', slow.producer, { timeoutMs: 100 })];
    const signal = await slow.started;
    const results = await Promise.allSettled(waiters);
    expect(signal.aborted).to.equal(true);
    for (const result of results) {
      expect(result.status).to.equal('rejected');
      if (result.status === 'rejected') expect(result.reason).to.be.instanceOf(MediaStoreError).with.property('code', 'timeout');
    }
    expect(await readdir(dir)).to.deep.equal([]);
    slow.release(); // it ignored the abort and writes again: that file is removed too
    await waitUntilEmpty(dir);
    expect(store.size).to.equal(0);
  });

  it('lets one waiter stop waiting without disturbing the others, and keeps the result', async () => {
    const store = await open();
    const slow = gated();
    const leaving = new AbortController();
    const first = store.obtain('shared', slow.producer, { timeoutMs: 5000, signal: leaving.signal });
    const second = store.obtain('shared', slow.producer, LONG);
    const productionSignal = await slow.started;
    leaving.abort();
    const error = await first.catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MediaStoreError).with.property('code', 'aborted');
    expect(productionSignal.aborted).to.equal(false);
    slow.release();
    const media = await second;
    expect(media.bytes).to.equal(50);
    expect(slow.calls()).to.equal(1);
  });

  it('finishes and keeps a production every waiter left', async () => {
    const store = await open();
    const slow = gated();
    const leaving = new AbortController();
    const waiter = store.obtain('left', slow.producer, { timeoutMs: 5000, signal: leaving.signal });
    await slow.started;
    leaving.abort();
    await waiter.catch(() => undefined);
    const again = store.obtain('left', slow.producer, LONG);
    slow.release();
    expect((await again).bytes).to.equal(50);
    expect(slow.calls()).to.equal(1);
  });

  it('rejects at once a caller whose signal is already aborted', async () => {
    const store = await open();
    const producer = counting();
    const error = await store.obtain('x', producer, { timeoutMs: 1000, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MediaStoreError).with.property('code', 'aborted');
    expect(producer.calls).to.equal(0);
  });

  it('get() validates the id and never leaves the directory', async () => {
    const store = await open();
    for (const id of ['../secret', 'ABC', `${'A'.repeat(64)}`, `${'a'.repeat(63)}`, `${'a'.repeat(64)}/..`, '']) {
      expect(store.get(id), id).to.equal(undefined);
    }
    expect(store.get('a'.repeat(64))).to.equal(undefined);
  });

  it('get() serves a file another process stored in the same directory', async () => {
    const store = await open();
    const id = MediaStore.idFor('elsewhere');
    await writeFile(join(dir, `${id}.wav`), Buffer.alloc(30));
    expect(store.get(id)).to.deep.equal({ id, path: join(dir, `${id}.wav`), bytes: 30 });
    expect(store.size).to.equal(30);
  });

  it('obtain() uses a file another process stored instead of producing it again', async () => {
    const store = await open();
    const id = MediaStore.idFor('shared');
    await writeFile(join(dir, `${id}.wav`), Buffer.alloc(40));
    const producer = counting();
    expect(await store.obtain('shared', producer, LONG)).to.deep.equal({ id, path: join(dir, `${id}.wav`), bytes: 40 });
    expect(producer.calls).to.equal(0);
  });

  it('open() indexes stored files in last-use order, removes stale temp files, ignores the rest', async () => {
    const ids = ['old', 'middle', 'new'].map((k) => MediaStore.idFor(k));
    const [oldId, middleId, newId] = ids as [string, string, string];
    const now = Date.now() / 1000;
    for (const [i, id] of ids.entries()) {
      await writeFile(join(dir, `${id}.wav`), Buffer.alloc(100));
      await utimes(join(dir, `${id}.wav`), now - 300 + i * 100, now - 300 + i * 100);
    }
    const staleTemp = `.${oldId}.abcdef.tmp`;
    const freshTemp = `.${newId}.012345.tmp`;
    await writeFile(join(dir, staleTemp), 'x');
    await utimes(join(dir, staleTemp), now - 3600, now - 3600);
    await writeFile(join(dir, freshTemp), 'x');
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    const log = new RecordingLogger();
    const store = await MediaStore.open({ dir, maxBytes: 250, log, staleTempMs: 60_000 });
    // 300 bytes over a 250-byte cap: the least recently used file goes.
    expect(store.size).to.equal(200);
    expect(store.get(oldId)).to.equal(undefined);
    expect(store.get(middleId)?.bytes).to.equal(100);
    expect(store.get(newId)?.bytes).to.equal(100);
    const left = await readdir(dir);
    expect(left).to.include.members([freshTemp, 'notes.txt', `${middleId}.wav`, `${newId}.wav`]);
    expect(left).to.not.include.members([staleTemp, `${oldId}.wav`]);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).to.equal('keep me');
  });

  it('open() creates a missing directory', async () => {
    const nested = join(dir, 'a', 'b');
    const store = await MediaStore.open({ dir: nested, maxBytes: 10, log: silentLogger });
    expect(store.size).to.equal(0);
    expect((await stat(nested)).isDirectory()).to.equal(true);
  });
});

describe('media locators', () => {
  const media = { id: MediaStore.idFor('x'), path: '/var/media/x.wav', bytes: 1 };

  it('httpLocator: sound:<base>/media/<id>.wav, trailing slashes dropped', () => {
    expect(httpLocator('http://app:8080/')(media)).to.deep.equal({ kind: 'sound', uri: `sound:http://app:8080/media/${media.id}.wav` });
    expect(httpLocator('https://example.com/tts//')(media).kind).to.equal('sound');
  });

  it('httpLocator: even a short base gives a URI longer than Asterisk needs', () => {
    const ref = httpLocator('http://a')(media);
    if (ref.kind !== 'sound') throw new Error('expected a sound');
    expect(ref.uri.length).to.be.greaterThan(64);
    expect(ref.uri.slice('sound:'.length).length).to.be.greaterThan(64);
  });

  it('httpLocator refuses what is not an http(s) base URL', () => {
    for (const bad of ['app:8080', 'ftp://x', 'http://x/?q=1', 'http://x/#f', '']) {
      expect(() => httpLocator(bad), bad).to.throw(MediaLocatorError).with.property('code', 'invalid_base_url');
    }
  });

  it('directoryLocator: sound:<dir>/<id> without extension', () => {
    expect(directoryLocator('/var/lib/media/')(media)).to.deep.equal({ kind: 'sound', uri: `sound:/var/lib/media/${media.id}` });
    expect(() => directoryLocator('media')).to.throw(MediaLocatorError).with.property('code', 'invalid_directory');
  });
});

async function expectGone(path: string): Promise<void> {
  // The unlink of an evicted file runs in the background.
  for (let i = 0; i < 100; i++) {
    try {
      await stat(path);
    } catch {
      return;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`${path} is still there`);
}

async function waitUntilEmpty(path: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await readdir(path)).length === 0) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`${path} is not empty: ${(await readdir(path)).join(', ')}`);
}
