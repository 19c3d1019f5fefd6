import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../../lib/config/index.js';

describe('config: admission control (MAX_CALLS, MAX_CALLS_PER_SECOND, OVERLOAD_LAG_MS, OVERLOAD_ARI_REQUESTS)', function () {
  it('by default limits neither calls nor their rate, and watches the lag (300 ms) and the ARI requests (10 per connection)', function () {
    expect(loadConfig({}).admission).to.deep.equal({ maxCalls: 0, maxCallsPerSecond: 0, lagMs: 300, ariRequests: 500 });
    expect(loadConfig({ ARI_MAX_CONNECTIONS: '200' }).admission.ariRequests).to.equal(2000);
  });

  it('reads each setting; 0 turns a limit off', function () {
    const env = { MAX_CALLS: '120', MAX_CALLS_PER_SECOND: '15', OVERLOAD_LAG_MS: '0', OVERLOAD_ARI_REQUESTS: '0' };
    expect(loadConfig(env).admission).to.deep.equal({ maxCalls: 120, maxCallsPerSecond: 15, lagMs: 0, ariRequests: 0 });
  });

  it('names the setting that cannot be used', function () {
    const problem = (env: NodeJS.ProcessEnv): string => {
      try {
        loadConfig(env);
      } catch (error) {
        if (error instanceof ConfigError) return error.message;
        throw error;
      }
      return 'accepted';
    };
    expect(problem({ MAX_CALLS: '-1' })).to.match(/^MAX_CALLS: must be a whole number/);
    expect(problem({ MAX_CALLS_PER_SECOND: '2.5' })).to.match(/^MAX_CALLS_PER_SECOND: must be a whole number/);
    expect(problem({ OVERLOAD_LAG_MS: '60001' })).to.match(/^OVERLOAD_LAG_MS: must be at most 60000/);
    // No more than are sent at once: every call would be refused as soon as ARI is busy.
    expect(problem({ OVERLOAD_ARI_REQUESTS: '50' })).to.match(/^OVERLOAD_ARI_REQUESTS: must be more than ARI_MAX_CONNECTIONS \(50\)/);
    expect(problem({ OVERLOAD_ARI_REQUESTS: '51' })).to.equal('accepted');
  });
});
