import { expect } from 'chai';
import type { Socket } from 'node:net';
import zlib from 'node:zlib';
import { executeFetch } from '../../../lib/callback/execute.js';
import { serverPool } from '../../support/http-servers.js';
import { env, neverAborted, spec, VALID_XML } from './fixtures.js';

describe('executeFetch: compressed answers and kept-alive connections', () => {
  const pool = serverPool();
  afterEach(() => pool.closeAll());

  const encoders: Record<string, (text: string) => Buffer> = {
    gzip: (text) => zlib.gzipSync(text),
    deflate: (text) => zlib.deflateSync(text),
    br: (text) => zlib.brotliCompressSync(text),
  };

  for (const [encoding, encode] of Object.entries(encoders)) {
    it(`asks for compression and decodes a ${encoding} answer`, async () => {
      const s = await pool.start((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/xml', 'content-encoding': encoding });
        res.end(encode(VALID_XML));
      });
      const outcome = await executeFetch(spec(`${s.origin}/zipped`, 2000), env(), neverAborted);
      expect(outcome).to.deep.equal({ ok: true, status: 200, body: VALID_XML, attempts: 1 });
      expect(s.requests[0]?.headers['accept-encoding']).to.equal('gzip, deflate, br');
    });
  }

  it('counts the limit after decompression: a small gzip of a large answer is too large', async () => {
    const large = `<Response><Say>${'a'.repeat(200 * 1024)}</Say></Response>`;
    const zipped = zlib.gzipSync(large);
    expect(zipped.length).to.be.below(64 * 1024);
    const s = await pool.start((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(zipped.length) });
      res.end(zipped);
    });
    const outcome = await executeFetch(spec(`${s.origin}/bomb`, 2000), env(), neverAborted);
    expect(outcome).to.deep.equal({
      ok: false,
      attempts: 1,
      failure: { code: 'too_large', reason: 'the answer was larger than 65536 bytes' },
    });
  });

  it('reads an empty gzip-labelled answer as an empty answer', async () => {
    const s = await pool.start((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': '0' });
      res.end();
    });
    const outcome = await executeFetch(spec(`${s.origin}/empty`, 2000), env(), neverAborted);
    expect(outcome).to.deep.include({ ok: false, attempts: 1 });
    expect(!outcome.ok && outcome.failure.code).to.equal('parse');
  });

  it('reports an answer cut short as a reset connection, and tries again', async () => {
    const s = await pool.start((_req, res, _rec, index) => {
      if (index === 0) {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('<Response>');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.end(VALID_XML);
    });
    const outcome = await executeFetch(spec(`${s.origin}/cut`, 3000), env(), neverAborted);
    expect(outcome).to.deep.equal({ ok: true, status: 200, body: VALID_XML, attempts: 2 });
  });

  it('uses one connection for successive callbacks to the same server', async () => {
    const sockets = new Set<Socket>();
    const s = await pool.start((req, res) => {
      sockets.add(req.socket);
      res.end(VALID_XML);
    });
    for (let i = 0; i < 3; i += 1) {
      const outcome = await executeFetch(spec(`${s.origin}/again`, 2000), env(), neverAborted);
      expect(outcome.ok, JSON.stringify(outcome)).to.equal(true);
    }
    expect(sockets.size).to.equal(1);
  });
});
