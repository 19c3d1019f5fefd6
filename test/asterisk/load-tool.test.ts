// The load tool (npm run load) on a real Asterisk 22 that it starts itself with
// asterisk-config/ (ASTERISK_BIN): a 3 s run at 10 calls/s through Local channels into the
// project's dialplan completes every call, leaves no channel on Asterisk and no process
// running. Behaviour only: no timing is asserted.
import { expect } from 'chai';
import { asteriskBinary } from '../support/asterisk/launcher.js';
import { isRunning, startLoadTool } from '../support/load-tool.js';

describe('load tool on Asterisk 22', function () {
  this.timeout(120_000);

  before(function () {
    asteriskBinary();
  });

  it('completes every call of a 3 s run at 10 calls/s with the callback flow, and stops what it started', async function () {
    const run = await startLoadTool(['--asterisk', '--rate', '10', '--duration', '3', '--flow', 'callback', '--warmup', '1']);
    const { code, result } = await run.finished;
    expect(code, run.stderr()).to.equal(0);
    expect(result, run.stderr()).to.not.equal(undefined);
    if (result === undefined) return;
    expect(result.calls, run.stderr()).to.deep.include({ placed: 30, completed: 30, failed: 0, refused: 0 });
    // Every call's callback reached the server and was seen from the caller's side.
    expect(result.callbacks.serverRequests['/next']).to.equal(31);
    expect(result.latencyMs.callbackRequest.count).to.equal(30);
    expect(result.channelsLeft).to.equal(0);
    const pids = Object.entries(result.processes)
      .filter(([role]) => role !== 'load-tool')
      .map(([role, figures]) => `${role} ${figures.pid}`);
    expect(pids.map((p) => p.split(' ')[0])).to.include.members(['asterisk', 'engine', 'redis', 'callback-server']);
    expect(pids.filter((p) => isRunning(Number(p.split(' ')[1]))), 'processes left running').to.deep.equal([]);
  });
});
