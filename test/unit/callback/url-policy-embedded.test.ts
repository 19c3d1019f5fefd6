// The outbound URL policy and IPv6 addresses that embed an IPv4 address (issue 9, item 5).
import type { LookupAddress } from 'node:dns';
import { expect } from 'chai';
import { embeddedIpv4, ipv6Bytes } from '../../../lib/callback/embedded-ipv4.js';
import { PolicyRefusal, UrlPolicy, type Resolver } from '../../../lib/callback/url-policy.js';

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof PolicyRefusal) return error.reason;
    throw error;
  }
  return expect.fail('expected a PolicyRefusal');
}

function lookup(policy: UrlPolicy, hostname: string): Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[] }> {
  return new Promise((resolve) => {
    policy.lookup(hostname, { all: true }, (error, address) => resolve({ error, address }));
  });
}

const answering = (address: string): Resolver => async () => [{ address, family: 6 }];

// [address, what the refusal says]
const REFUSED = [
  ['::127.0.0.1', 'IPv4-compatible IPv6 address for 127.0.0.1, a loopback address'],
  ['::7f00:1', 'IPv4-compatible IPv6 address for 127.0.0.1, a loopback address'],
  ['::10.1.2.3', 'IPv4-compatible IPv6 address for 10.1.2.3, a private address'],
  ['::169.254.169.254', 'IPv4-compatible IPv6 address for 169.254.169.254, a link-local address'],
  ['::ffff:0:127.0.0.1', 'IPv4-translated IPv6 address for 127.0.0.1, a loopback address'],
  ['64:ff9b::127.0.0.1', 'NAT64 address for 127.0.0.1, a loopback address'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 address for 169.254.169.254, a link-local address'],
  ['64:ff9b::192.168.0.1', 'NAT64 address for 192.168.0.1, a private address'],
  ['64:ff9b::100.64.0.1', 'NAT64 address for 100.64.0.1, a shared (carrier-grade NAT) address'],
  ['64:ff9b::', 'NAT64 address for 0.0.0.0, an unspecified address'],
  ['64:ff9b:1::7f00:1', 'a local-use NAT64 address'],
  ['64:ff9b:1:abcd::808:808', 'a local-use NAT64 address'],
  ['2002:7f00:1::', '6to4 address for 127.0.0.1, a loopback address'],
  ['2002:a00:1::1', '6to4 address for 10.0.0.1, a private address'],
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'Teredo address for 127.0.0.1, a loopback address'],
  ['2001::f5ff:fffe', 'Teredo address for 10.0.0.1, a private address'],
] as const;

const PUBLIC = ['::8.8.8.8', '64:ff9b::808:808', '64:ff9b::93.184.216.34', '2002:808:808::1', '2001:0:4136:e378:8000:63bf:f7f7:f7f7', '2001:4860:4860::8888'];

describe('callback URL policy: IPv6 forms embedding an IPv4 address', () => {
  const policy = new UrlPolicy();

  for (const [address, words] of REFUSED) {
    it(`refuses ${address} literal in a URL (${words})`, () => {
      expect(reasonOf(() => policy.checkUrl(`http://[${address}]/x`))).to.contain(words);
    });

    it(`refuses ${address} as a DNS answer (${words})`, async () => {
      const dnsPolicy = new UrlPolicy('', { resolve: answering(address) });
      const { error } = await lookup(dnsPolicy, 'rebound.test');
      expect(error).to.be.instanceOf(PolicyRefusal);
      expect((error as PolicyRefusal).reason).to.match(/^the URL is not allowed: rebound\.test is at /).and.to.contain(words);
    });
  }

  for (const address of PUBLIC) {
    it(`allows ${address}, whose IPv4 address is public`, async () => {
      expect(() => policy.checkUrl(`http://[${address}]/x`)).not.to.throw();
      expect((await lookup(new UrlPolicy('', { resolve: answering(address) }), 'public.test')).error).to.equal(null);
    });
  }

  it('lets OUTBOUND_ALLOW open the IPv4 address a form embeds, and the IPv6 ranges themselves', () => {
    const loopback = new UrlPolicy('127.0.0.0/8');
    for (const address of ['::127.0.0.1', '::ffff:0:127.0.0.1', '64:ff9b::127.0.0.1', '2002:7f00:1::', '2001::80ff:fffe']) {
      expect(() => loopback.checkUrl(`http://[${address}]/`), address).not.to.throw();
    }
    expect(() => loopback.checkUrl('http://[64:ff9b::a00:1]/')).to.throw(PolicyRefusal);
    expect(() => new UrlPolicy('64:ff9b::/96').checkUrl('http://[64:ff9b::127.0.0.1]/')).not.to.throw();
    expect(() => new UrlPolicy('64:ff9b:1::/48').checkUrl('http://[64:ff9b:1::7f00:1]/')).not.to.throw();
    expect(() => new UrlPolicy('2002::/16').checkUrl('http://[2002:7f00:1::]/')).not.to.throw();
  });

  it('reads the embedded IPv4 address of each form', () => {
    expect(embeddedIpv4('::1.2.3.4')).to.deep.equal({ form: 'ipv4-compatible', ipv4: '1.2.3.4' });
    expect(embeddedIpv4('::ffff:1.2.3.4')).to.deep.equal({ form: 'ipv4-mapped', ipv4: '1.2.3.4' });
    expect(embeddedIpv4('::ffff:0:102:304')).to.deep.equal({ form: 'ipv4-translated', ipv4: '1.2.3.4' });
    expect(embeddedIpv4('64:FF9B::102:304')).to.deep.equal({ form: 'nat64', ipv4: '1.2.3.4' });
    expect(embeddedIpv4('2002:102:304:5::6')).to.deep.equal({ form: '6to4', ipv4: '1.2.3.4' });
    expect(embeddedIpv4('2001:0:4136:e378:8000:63bf:fefd:fcfb')).to.deep.equal({ form: 'teredo', ipv4: '1.2.3.4' });
    expect(embeddedIpv4('2606:4700::1111')).to.equal(undefined);
    expect(embeddedIpv4('1.2.3.4')).to.equal(undefined);
  });

  it('parses IPv6 text in every form, and nothing else', () => {
    expect([...(ipv6Bytes('::') ?? [])]).to.deep.equal(new Array(16).fill(0));
    expect([...(ipv6Bytes('1:2:3:4:5:6:7:8') ?? [])]).to.deep.equal([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    expect([...(ipv6Bytes('fe80::1%eth0') ?? [])].slice(0, 2)).to.deep.equal([0xfe, 0x80]);
    for (const bad of ['', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', '::1.2.3', '::256.1.1.1', 'g::']) {
      expect(ipv6Bytes(bad), bad).to.equal(undefined);
    }
  });
});
