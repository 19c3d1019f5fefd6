// The http role binds the address it is given (HTTP_HOST) and says so in its log line
// (issue 9, item 10). On Linux all of 127.0.0.0/8 reaches the host: a server bound to
// 127.0.0.1 answers there and not on 127.0.0.2, one bound to 0.0.0.0 answers on both.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startHttpRole, type HttpRole } from '../../../app/roles/http.js';
import { MediaStore } from '../../../lib/media/index.js';
import { silentLogger } from '../../support/silent-logger.js';
import { stderrLogger } from '../../support/stderr-logger.js';

async function answers(url: string): Promise<number | string> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? String(error);
  }
}

describe('http role: the address it binds', function () {
  let dir: string;
  let store: MediaStore;
  const roles: HttpRole[] = [];

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-http-host-'));
    store = await MediaStore.open({ dir, maxBytes: 1024 * 1024, log: silentLogger });
  });

  after(async function () {
    for (const role of roles) await role.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(host: string | undefined): Promise<{ role: HttpRole; logged: object | undefined }> {
    const log = stderrLogger('error');
    const role = await startHttpRole({ port: 0, readiness: () => ({ ready: true }), store, ...(host === undefined ? {} : { host }) }, log);
    roles.push(role);
    return { role, logged: log.entries.find((e) => e.msg === 'http role listening')?.obj };
  }

  it('on 127.0.0.1 answers there only, and logs the address', async function () {
    const { role, logged } = await start('127.0.0.1');
    expect(logged).to.deep.equal({ host: '127.0.0.1', port: role.port });
    expect(await answers(`http://127.0.0.1:${role.port}/health`)).to.equal(200);
    expect(await answers(`http://127.0.0.2:${role.port}/health`)).to.equal('ECONNREFUSED');
  });

  it('by default on 0.0.0.0, every interface', async function () {
    const { role, logged } = await start(undefined);
    expect(logged).to.deep.equal({ host: '0.0.0.0', port: role.port });
    expect(await answers(`http://127.0.0.1:${role.port}/health`)).to.equal(200);
    expect(await answers(`http://127.0.0.2:${role.port}/health`)).to.equal(200);
  });
});
