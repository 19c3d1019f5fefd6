// The calls' saved state on a real Redis: saved by one process, claimed by the next once
// the first is gone, never by two processes at once.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { FlowPosition } from '../../../lib/flow/index.js';
import { CallStates, type CallIdentity } from '../../../lib/session/index.js';
import { parseDocument } from '../../../lib/xml/index.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';
import { silentLogger } from '../../support/silent-logger.js';

const XML = '<Response><Say>one</Say><Pause length="1000"/><Hangup/></Response>';

describe('call state in Redis (resuming calls after a restart)', function () {
  let url: string;
  let prefix: string;
  let redis: Redis;
  const open: CallStates[] = [];

  const states = (): CallStates => {
    const made = new CallStates({ connection: url, prefix, ttlSeconds: 60, log: silentLogger });
    open.push(made);
    return made;
  };

  const identity = (channel: string): CallIdentity => ({ call: `call-${channel}`, app: 'app-1', channel, did: '15551230000', from: '15550001111' });
  const position = (verb: number): FlowPosition => ({ document: parseDocument(XML), documents: 1, verb, fetchSteps: 2, recordings: [] });

  before(async function () {
    url = await sharedRedisUrl();
    redis = new Redis(url);
  });

  beforeEach(function () {
    prefix = uniquePrefix('call-state');
  });

  afterEach(async function () {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  after(() => redis.disconnect());

  it('a call saved by a live process is not taken; once that process is gone it is, with its position, document and playback', async function () {
    const first = states();
    first.save(identity('ch-1'), position(0), { sequence: 3, answered: true });
    first.save(identity('ch-1'), position(1), { sequence: 5, answered: true });
    first.playing('ch-1', 'pb-9');
    expect(await first.whenWritten()).to.equal(true);

    const next = states();
    expect(await next.claim('ch-1', 2000)).to.deep.equal({ kind: 'busy', owner: first.instance });

    await first.close();
    const claim = await next.claim('ch-1', 2000);
    expect(claim.kind).to.equal('resume');
    if (claim.kind !== 'resume') return;
    expect(claim.saved).to.deep.include({ ...identity('ch-1'), documents: 1, verb: 1, fetchSteps: 2, sequence: 5, answered: true, recordings: [] });
    expect(claim.document).to.equal(XML);
    expect(claim.playback).to.equal('pb-9');
    // Now the new process's: a third one does not take it while it lives.
    expect(await states().claim('ch-1', 2000)).to.deep.equal({ kind: 'busy', owner: next.instance });
  });

  it('a call handed over (released) is taken at once, even while the process that ran it lives', async function () {
    const first = states();
    first.save(identity('ch-2'), position(2), { sequence: 0, answered: false });
    first.release('ch-2');
    await first.whenWritten();
    expect((await states().claim('ch-2', 2000)).kind).to.equal('resume');
  });

  it('two processes claiming the call of a dead one at once: exactly one resumes it', async function () {
    const dead = states();
    dead.save(identity('ch-3'), position(0), { sequence: 0, answered: false });
    await dead.close();
    const claims = await Promise.all([states().claim('ch-3', 2000), states().claim('ch-3', 2000)]);
    expect(claims.map((c) => c.kind).sort()).to.deep.equal(['busy', 'resume']);
  });

  it('a call that ended leaves nothing; a damaged state is refused with the field that is wrong', async function () {
    const first = states();
    first.save(identity('ch-4'), position(0), { sequence: 0, answered: false });
    first.forget('ch-4');
    await first.whenWritten();
    expect(await states().claim('ch-4', 2000)).to.deep.equal({ kind: 'none' });

    await redis.hset(`${prefix}:call:ch-5`, 'state', JSON.stringify({ version: 1, call: 'x' }));
    const claim = await states().claim('ch-5', 2000);
    expect(claim.kind).to.equal('unusable');
    expect(claim.kind === 'unusable' ? claim.reason : '').to.match(/app/);
  });

  it('a state whose document expired is not usable', async function () {
    const first = states();
    first.save(identity('ch-6'), position(0), { sequence: 0, answered: false });
    first.release('ch-6');
    await first.whenWritten();
    const keys = await redis.keys(`${prefix}:document:*`);
    await redis.del(...keys);
    expect(await states().claim('ch-6', 2000)).to.deep.equal({ kind: 'unusable', reason: 'the document it was running is no longer kept' });
  });
});
