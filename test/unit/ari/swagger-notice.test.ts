// withoutSwaggerNotice: swagger-client's deprecation notice is dropped while the ARI API
// loads; every other console.log goes through, and console.log is restored after.
import { expect } from 'chai';
import { withoutSwaggerNotice } from '../../../lib/ari/swagger-notice.js';

const NOTICE = ['This API is using a deprecated version of Swagger!  Please see http://github.com/wordnik/swagger-core/wiki for more info'];

describe('ARI: swagger-client deprecation notice', () => {
  const saved = console.log;
  let printed: unknown[][];
  const recorder = (...args: unknown[]): void => {
    printed.push(args);
  };

  beforeEach(() => {
    printed = [];
    console.log = recorder;
  });
  afterEach(() => {
    console.log = saved;
  });

  it('drops exactly the notice while loading, passes the rest, and restores console.log', async () => {
    const result = await withoutSwaggerNotice(async () => {
      console.log(NOTICE);
      console.log('other');
      console.log(NOTICE, 'with more');
      console.log(['This API is something else']);
      return 42;
    });
    expect(result).to.equal(42);
    expect(printed).to.deep.equal([['other'], [NOTICE, 'with more'], [['This API is something else']]]);
    expect(console.log).to.equal(recorder);
    console.log(NOTICE);
    expect(printed.at(-1), 'after loading, nothing is filtered').to.deep.equal([NOTICE]);
  });

  it('keeps filtering until the last of overlapping loads settles, also when one fails', async () => {
    let finishSecond: () => void = () => undefined;
    const first = withoutSwaggerNotice(() => Promise.reject(new Error('refused')));
    const second = withoutSwaggerNotice(() => new Promise<void>((resolve) => (finishSecond = resolve)));
    expect(await first.catch((error: unknown) => (error as Error).message)).to.equal('refused');
    console.log(NOTICE);
    expect(printed).to.deep.equal([]);
    finishSecond();
    await second;
    expect(console.log).to.equal(recorder);
  });
});
