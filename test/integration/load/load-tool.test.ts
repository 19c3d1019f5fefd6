// The load tool (npm run load) on the fake ARI: a short run at a low rate completes every
// call and says so in its JSON result, and the tool leaves no process behind, whether the
// run ends by itself or with Ctrl-C. Behaviour only: no timing is asserted.
import { expect } from 'chai';
import { isRunning, startLoadTool } from '../../support/load-tool.js';
import type { LoadResult } from '../../../scripts/load/result.js';

function startedProcesses(result: LoadResult): number[] {
  return Object.entries(result.processes)
    .filter(([role]) => role !== 'load-tool')
    .map(([, figures]) => figures.pid);
}

describe('load tool on the fake ARI', function () {
  this.timeout(90_000);

  it('completes every call of a 2 s run at 5 calls/s, and stops what it started', async function () {
    const run = await startLoadTool(['--fake', '--rate', '5', '--duration', '2', '--warmup', '1']);
    const { code, stdout, result } = await run.finished;
    expect(code, run.stderr()).to.equal(0);
    expect(result, run.stderr()).to.not.equal(undefined);
    if (result === undefined) return;
    expect(result.calls).to.deep.include({ placed: 10, completed: 10, failed: 0, refused: 0 });
    expect(result.latencyMs.firstAudio.count).to.equal(10);
    expect(Object.keys(result.processes)).to.include.members(['engine', 'fake-ari', 'redis', 'callback-server']);
    expect(result.channelsLeft).to.equal(0);
    expect(stdout).to.match(/completed 10 \(100 %\)/);
    expect(startedProcesses(result).filter(isRunning), 'processes left running').to.deep.equal([]);
  });

  it('counts the calls the engine refuses (MAX_CALLS, cause 42) as refused, by cause, and agrees with the engine', async function () {
    // 20 calls/s of 1.4 s calls keep about 28 in progress: with at most 10, most are refused.
    const run = await startLoadTool(['--fake', '--rate', '20', '--duration', '2', '--warmup', '1', '--engine-env', 'MAX_CALLS=10']);
    const { code, result } = await run.finished;
    expect(code, run.stderr()).to.equal(0);
    if (result === undefined) throw new Error(`no result:\n${run.stderr()}`);
    expect(result.calls.failed).to.equal(0);
    expect(result.calls.refused).to.be.greaterThan(0);
    expect(result.calls.completed + result.calls.refused).to.equal(40);
    expect(result.calls.refusedByReason).to.deep.equal({ 'cause 42 (switching equipment congestion)': result.calls.refused });
    expect(result.engineView?.callsRefused).to.deep.equal({ overload_calls: result.calls.refused });
  });

  it('on Ctrl-C stops placing calls, reports what it measured and stops what it started', async function () {
    const run = await startLoadTool(['--fake', '--rate', '2', '--duration', '60', '--warmup', '0']);
    const deadline = Date.now() + 60_000;
    while (!/\bplaced [1-9]/.test(run.stderr()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    run.child.kill('SIGINT');
    const { code, result } = await run.finished;
    expect(code, run.stderr()).to.equal(0);
    expect(result?.notes.some((note) => note.startsWith('interrupted')), run.stderr()).to.equal(true);
    expect(result?.calls.placed).to.be.lessThan(120);
    if (result !== undefined) expect(startedProcesses(result).filter(isRunning), 'processes left running').to.deep.equal([]);
  });
});
