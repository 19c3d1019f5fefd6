import type { LookupAddress } from 'node:dns';
import { expect } from 'chai';
import { AllowListError, PolicyRefusal, UrlPolicy, type Resolver } from '../../../lib/callback/url-policy.js';

function refusal(run: () => unknown): PolicyRefusal {
  try {
    run();
  } catch (error) {
    if (error instanceof PolicyRefusal) return error;
    throw error;
  }
  expect.fail('expected a PolicyRefusal');
}

function lookup(policy: UrlPolicy, hostname: string, all: boolean): Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[] }> {
  return new Promise((resolve) => {
    policy.lookup(hostname, { all }, (error, address) => resolve({ error, address }));
  });
}

const fakeDns = (answers: Record<string, string[]>): Resolver => async (hostname) => {
  const addresses = answers[hostname];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('callback URL policy', () => {
  describe('default policy', () => {
    const policy = new UrlPolicy();
    const refused = [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['::1', 'loopback'],
      ['169.254.169.254', 'link-local'],
      ['fe80::1', 'link-local'],
      ['febf::1', 'link-local'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['fc00::1', 'private'],
      ['fd12:3456::1', 'private'],
      ['100.64.0.1', 'carrier-grade NAT'],
      ['100.127.255.254', 'carrier-grade NAT'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:169.254.1.1', 'link-local'],
    ] as const;
    for (const [address, words] of refused) {
      it(`refuses ${address} (${words})`, () => {
        expect(refusal(() => policy.checkAddress('example.com', address)).reason).to.contain(words);
      });
    }

    for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      it(`allows the public address ${address}`, () => {
        expect(() => policy.checkAddress('example.com', address)).not.to.throw();
      });
    }

    it('refuses schemes other than http and https, and unreadable URLs', () => {
      expect(refusal(() => policy.checkUrl('ftp://example.com/x')).reason).to.contain('only http and https');
      expect(refusal(() => policy.checkUrl('file:///etc/passwd')).reason).to.contain('only http and https');
      expect(refusal(() => policy.checkUrl('not a url')).reason).to.equal('the URL is not valid');
      expect(policy.checkUrl('https://example.com/x?y=1').href).to.equal('https://example.com/x?y=1');
    });

    it('refuses literal addresses in URLs, in every spelling the URL parser accepts', () => {
      for (const url of ['http://127.0.0.1/', 'http://[::1]:8080/', 'http://2130706433/', 'http://0x7f.1/', 'http://[::ffff:127.0.0.1]/', 'http://0/']) {
        expect(() => policy.checkUrl(url), url).to.throw(PolicyRefusal);
      }
    });

    it('says which name resolved to which address', () => {
      expect(refusal(() => policy.checkAddress('LocalHost.', '127.0.0.1')).reason).to.equal(
        'the URL is not allowed: localhost is at 127.0.0.1, a loopback address',
      );
    });
  });

  describe('allow-list', () => {
    it('opens CIDR ranges narrowly', () => {
      const policy = new UrlPolicy('127.0.0.1/32');
      expect(() => policy.checkAddress('127.0.0.1', '127.0.0.1')).not.to.throw();
      expect(() => policy.checkAddress('127.0.0.2', '127.0.0.2')).to.throw(PolicyRefusal);
      expect(() => policy.checkAddress('x', '::ffff:127.0.0.1')).not.to.throw();
    });

    it('takes host names, addresses and ranges, with spaces and empty entries', () => {
      const policy = new UrlPolicy(' 127.0.0.0/8 , callbacks.internal,,fd00::/8, 10.0.0.7, [::1] ');
      expect(() => policy.checkAddress('a', '127.9.9.9')).not.to.throw();
      expect(() => policy.checkAddress('a', 'fd00::5')).not.to.throw();
      expect(() => policy.checkAddress('a', '10.0.0.7')).not.to.throw();
      expect(() => policy.checkAddress('a', '::1')).not.to.throw();
      expect(() => policy.checkAddress('a', '10.0.0.8')).to.throw(PolicyRefusal);
      expect(() => policy.checkAddress('Callbacks.Internal.', '192.168.3.4')).not.to.throw();
      expect(() => policy.checkAddress('other.internal', '192.168.3.4')).to.throw(PolicyRefusal);
    });

    it('names the bad entry in a coded error', () => {
      const bad = ['127.0.0.0/33', '::/129', '10.0.0.0/x', 'nothost/8', 'http://example.com', '*.example.com', 'a b'];
      for (const entry of bad) {
        let caught: unknown;
        try {
          new UrlPolicy(`127.0.0.1, ${entry}`);
        } catch (error) {
          caught = error;
        }
        expect(caught, entry).to.be.instanceOf(AllowListError);
        const error = caught as AllowListError;
        expect(error.code).to.equal('invalid_allow_list');
        expect(error.entry).to.equal(entry);
        expect(error.message).to.contain(`"${entry}"`);
      }
    });
  });

  describe('lookup (connection time)', () => {
    it('resolves and checks every address, in both callback forms', async () => {
      const policy = new UrlPolicy('', { resolve: fakeDns({ 'ok.test': ['93.184.216.34', '2606:4700::1'] }) });
      expect(await lookup(policy, 'ok.test', true)).to.deep.equal({
        error: null,
        address: [
          { address: '93.184.216.34', family: 4 },
          { address: '2606:4700::1', family: 6 },
        ],
      });
      expect(await lookup(policy, 'ok.test', false)).to.deep.equal({ error: null, address: '93.184.216.34' });
    });

    it('refuses a name when any of its addresses is restricted', async () => {
      const policy = new UrlPolicy('', { resolve: fakeDns({ 'mixed.test': ['93.184.216.34', '10.0.0.1'] }) });
      const { error } = await lookup(policy, 'mixed.test', true);
      expect(error).to.be.instanceOf(PolicyRefusal);
    });

    it('checks again on every lookup, so DNS rebinding is caught', async () => {
      const answers = [['93.184.216.34'], ['127.0.0.1']];
      const policy = new UrlPolicy('', {
        resolve: async () => (answers.shift() ?? []).map((address) => ({ address, family: 4 })),
      });
      expect((await lookup(policy, 'rebind.test', false)).error).to.equal(null);
      expect((await lookup(policy, 'rebind.test', false)).error).to.be.instanceOf(PolicyRefusal);
    });

    it('lets an allowed host name resolve anywhere', async () => {
      const policy = new UrlPolicy('callbacks.internal', { resolve: fakeDns({ 'callbacks.internal': ['10.1.1.1'] }) });
      expect((await lookup(policy, 'callbacks.internal', false)).error).to.equal(null);
    });

    it('passes DNS errors through', async () => {
      const policy = new UrlPolicy('', { resolve: fakeDns({}) });
      expect((await lookup(policy, 'nowhere.test', false)).error).to.have.property('code', 'ENOTFOUND');
    });

    it('refuses localhost with the system resolver', async () => {
      const { error } = await lookup(new UrlPolicy(), 'localhost', true);
      expect(error).to.be.instanceOf(PolicyRefusal);
    });
  });
});
