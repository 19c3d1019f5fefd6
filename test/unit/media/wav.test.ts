import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isTelephonyWav, parseWav, readWavFile, WavError, type WavErrorCode } from '../../../lib/media/wav.js';

interface Chunk {
  readonly id: string;
  readonly body: Buffer;
}

function chunk(id: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function fmt(o: { tag?: number; channels?: number; rate?: number; bits?: number; blockAlign?: number }): Buffer {
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const rate = o.rate ?? 8000;
  const blockAlign = o.blockAlign ?? (channels * bits) / 8;
  const body = Buffer.alloc(16);
  body.writeUInt16LE(o.tag ?? 1, 0);
  body.writeUInt16LE(channels, 2);
  body.writeUInt32LE(rate, 4);
  body.writeUInt32LE(rate * blockAlign, 8);
  body.writeUInt16LE(blockAlign, 12);
  body.writeUInt16LE(bits, 14);
  return body;
}

function extensibleFmt(subFormat: number, channels: number, rate: number, bits: number, guidTail = '000000001000800000aa00389b71'): Buffer {
  const base = fmt({ tag: 0xfffe, channels, rate, bits });
  const ext = Buffer.alloc(24);
  ext.writeUInt16LE(22, 0);
  ext.writeUInt16LE(bits, 2);
  ext.writeUInt32LE(channels === 2 ? 3 : 4, 4);
  ext.writeUInt16LE(subFormat, 8);
  Buffer.from(guidTail, 'hex').copy(ext, 10);
  return Buffer.concat([base, ext]);
}

function wav(chunks: readonly Chunk[], riffSize?: number): Buffer {
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...chunks.map((c) => chunk(c.id, c.body))]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(riffSize ?? body.length, 4);
  return Buffer.concat([header, body]);
}

async function rejection(promise: Promise<unknown>): Promise<WavError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WavError) return error;
    throw error;
  }
  expect.fail('expected a WavError');
}

async function expectCode(bytes: Buffer, code: WavErrorCode): Promise<WavError> {
  const error = await rejection(parseWav(bytes));
  expect(error.code).to.equal(code);
  return error;
}

describe('WAV header reader', () => {
  it('reads an 8 kHz mono 16-bit PCM header and the data chunk', async () => {
    const info = await parseWav(wav([{ id: 'fmt ', body: fmt({}) }, { id: 'data', body: Buffer.alloc(16000) }]));
    expect(info).to.deep.equal({
      formatTag: 1,
      extensible: false,
      channels: 1,
      sampleRate: 8000,
      bitsPerSample: 16,
      blockAlign: 2,
      byteRate: 16000,
      dataOffset: 44,
      dataBytes: 16000,
      durationMs: 1000,
    });
    expect(isTelephonyWav(info)).to.equal(true);
  });

  it('skips LIST and other chunks before data, odd-sized ones included (pad byte)', async () => {
    const info = await parseWav(
      wav([
        { id: 'LIST', body: Buffer.from('INFOISFT\x05\x00\x00\x00Lavf5', 'latin1') },
        { id: 'fmt ', body: fmt({ channels: 2, rate: 44100 }) },
        { id: 'fact', body: Buffer.alloc(4) },
        { id: 'data', body: Buffer.alloc(44100 * 4) },
      ]),
    );
    expect(info).to.include({ channels: 2, sampleRate: 44100, bitsPerSample: 16, dataBytes: 176400, durationMs: 1000 });
    // The 17-byte LIST body is followed by one pad byte.
    expect(info.dataOffset).to.equal(12 + (8 + 18) + (8 + 16) + (8 + 4) + 8);
    expect(isTelephonyWav(info)).to.equal(false);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE and reports the sub-format', async () => {
    const info = await parseWav(wav([{ id: 'fmt ', body: extensibleFmt(1, 1, 48000, 24) }, { id: 'data', body: Buffer.alloc(144) }]));
    expect(info).to.include({ formatTag: 1, extensible: true, sampleRate: 48000, bitsPerSample: 24, blockAlign: 3, dataBytes: 144 });
  });

  it('reads non-PCM formats without judging them (mu-law), which isTelephonyWav refuses', async () => {
    const info = await parseWav(wav([{ id: 'fmt ', body: fmt({ tag: 7, bits: 8 }) }, { id: 'data', body: Buffer.alloc(8) }]));
    expect(info.formatTag).to.equal(7);
    expect(isTelephonyWav(info)).to.equal(false);
  });

  it('refuses what is not RIFF/WAVE', async () => {
    await expectCode(Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00garbage', 'latin1'), 'not_wav');
    await expectCode(Buffer.alloc(0), 'not_wav');
    await expectCode(Buffer.from('RIFF\x00\x00\x00\x00AVI LIST', 'latin1'), 'not_wav');
  });

  it('refuses a data chunk that claims more bytes than follow', async () => {
    const full = wav([{ id: 'fmt ', body: fmt({}) }, { id: 'data', body: Buffer.alloc(100) }]);
    const error = await expectCode(full.subarray(0, full.length - 10), 'truncated');
    expect(error.message).to.contain('declares 100 bytes but 90 follow');
  });

  it('refuses a file cut inside the fmt chunk', async () => {
    const full = wav([{ id: 'fmt ', body: fmt({}) }, { id: 'data', body: Buffer.alloc(4) }]);
    await expectCode(full.subarray(0, 30), 'truncated');
  });

  it('refuses missing or misplaced chunks', async () => {
    await expectCode(wav([{ id: 'fmt ', body: fmt({}) }]), 'no_data');
    await expectCode(wav([{ id: 'LIST', body: Buffer.alloc(4) }]), 'bad_format');
    await expectCode(wav([{ id: 'data', body: Buffer.alloc(4) }, { id: 'fmt ', body: fmt({}) }]), 'bad_format');
  });

  it('refuses impossible formats', async () => {
    const withFmt = (body: Buffer): Buffer => wav([{ id: 'fmt ', body }, { id: 'data', body: Buffer.alloc(4) }]);
    await expectCode(withFmt(fmt({ channels: 0, blockAlign: 2 })), 'bad_format');
    await expectCode(withFmt(fmt({ rate: 0 })), 'bad_format');
    await expectCode(withFmt(fmt({ bits: 12, blockAlign: 2 })), 'bad_format');
    await expectCode(withFmt(fmt({ channels: 2, blockAlign: 2 })), 'bad_format');
    await expectCode(withFmt(fmt({}).subarray(0, 14)), 'bad_format');
    await expectCode(withFmt(extensibleFmt(1, 1, 8000, 16, 'ffffffffffffffffffffffffffff')), 'bad_format');
  });

  it('reads a header from a file without reading the samples', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wav-test-'));
    try {
      const path = join(dir, 'a.wav');
      await writeFile(path, wav([{ id: 'LIST', body: Buffer.alloc(3000) }, { id: 'fmt ', body: fmt({}) }, { id: 'data', body: Buffer.alloc(800) }]));
      expect(await readWavFile(path)).to.include({ sampleRate: 8000, dataBytes: 800, durationMs: 50, dataOffset: 12 + 3008 + 24 + 8 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
