// The outbound URL policy (spec §4): which URLs a callback may reach. Addresses are
// checked when a connection is made (see `lookup`), not when the URL is read, so a name
// that resolves to a public address first and a private one later (DNS rebinding) is
// still refused, and so is every redirect target.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { embeddedIpv4, formWords } from './embedded-ipv4.js';

/** Why an address is refused by default. */
export type RestrictedRange = 'loopback' | 'link-local' | 'private' | 'shared' | 'unspecified' | 'local-nat64';

const RESTRICTED: readonly { range: RestrictedRange; subnets: readonly [string, number, 'ipv4' | 'ipv6'][] }[] = [
  { range: 'loopback', subnets: [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']] },
  { range: 'link-local', subnets: [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']] },
  {
    range: 'private',
    subnets: [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['fc00::', 7, 'ipv6']],
  },
  // 100.64.0.0/10: carrier-grade NAT, private to the operator's network.
  { range: 'shared', subnets: [['100.64.0.0', 10, 'ipv4']] },
  // 0.0.0.0/8 reaches the local host on Linux, like 0.0.0.0 itself.
  { range: 'unspecified', subnets: [['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']] },
  // 64:ff9b:1::/48 (RFC 8215): NAT64 prefixes of the operator's own network. Where the
  // IPv4 address sits depends on the prefix length the operator chose (RFC 6052), so
  // the whole range is refused; the well-known 64:ff9b::/96 is judged by its IPv4 address.
  { range: 'local-nat64', subnets: [['64:ff9b:1::', 48, 'ipv6']] },
];

// net.BlockList matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against IPv4 rules.
const RESTRICTED_LISTS = RESTRICTED.map(({ range, subnets }) => {
  const list = new net.BlockList();
  for (const [address, prefix, family] of subnets) list.addSubnet(address, prefix, family);
  return { range, list };
});

const RANGE_WORDS: Record<RestrictedRange, string> = {
  loopback: 'a loopback address',
  'link-local': 'a link-local address',
  private: 'a private address',
  shared: 'a shared (carrier-grade NAT) address',
  unspecified: 'an unspecified address',
  'local-nat64': 'a local-use NAT64 address',
};

/** An `OUTBOUND_ALLOW` entry that is not a host name, an address or a CIDR range. */
export class AllowListError extends Error {
  readonly code = 'invalid_allow_list';
  /** The entry as written. */
  readonly entry: string;

  constructor(entry: string, problem: string) {
    super(`OUTBOUND_ALLOW entry "${entry}": ${problem}`);
    this.name = 'AllowListError';
    this.entry = entry;
  }
}

/** A URL or an address the policy refuses. `reason` is short and speakable. */
export class PolicyRefusal extends Error {
  readonly code = 'policy_refused';
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'PolicyRefusal';
    this.reason = reason;
  }
}

/** Resolves a host name to every address it has (the seam tests use to play DNS). */
export type Resolver = (hostname: string, family: 0 | 4 | 6) => Promise<dns.LookupAddress[]>;

const systemResolver: Resolver = (hostname, family) => dns.promises.lookup(hostname, { all: true, family });

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function ipFamily(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = net.isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** `LOCALHOST.` and `localhost` are the same host; `[::1]` is the address `::1`. */
function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

function restrictedRange(address: string, family: 'ipv4' | 'ipv6'): RestrictedRange | undefined {
  return RESTRICTED_LISTS.find(({ list }) => list.check(address, family))?.range;
}

export class UrlPolicy {
  private pooled: { readonly http: http.Agent; readonly https: https.Agent } | undefined;
  private readonly allowedHosts = new Set<string>();
  private readonly allowedAddresses = new net.BlockList();
  private readonly resolve: Resolver;

  /**
   * @param allowList `OUTBOUND_ALLOW`: comma-separated host names, addresses and CIDR
   *   ranges that may be reached even though they are loopback, link-local or private.
   * @throws AllowListError naming the first entry that is none of these.
   */
  constructor(allowList = '', options: { resolve?: Resolver } = {}) {
    this.resolve = options.resolve ?? systemResolver;
    for (const raw of allowList.split(',')) {
      const entry = raw.trim();
      if (entry !== '') this.addEntry(entry);
    }
  }

  /**
   * Keep-alive connection pools for requests made under this policy. Pooled per policy: a
   * socket opened under a permissive allow-list must not be reused under a stricter one.
   */
  get agents(): { readonly http: http.Agent; readonly https: https.Agent } {
    this.pooled ??= { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
    return this.pooled;
  }

  private addEntry(entry: string): void {
    const slash = entry.indexOf('/');
    if (slash >= 0) {
      const address = normalizeHost(entry.slice(0, slash));
      const prefixText = entry.slice(slash + 1);
      const family = ipFamily(address);
      if (!family) throw new AllowListError(entry, `"${address}" is not an IP address`);
      const max = family === 'ipv4' ? 32 : 128;
      const prefix = Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText) || prefix > max) {
        throw new AllowListError(entry, `the prefix length must be a whole number from 0 to ${max}`);
      }
      this.allowedAddresses.addSubnet(address, prefix, family);
      return;
    }
    const host = normalizeHost(entry);
    const family = ipFamily(host);
    if (family) {
      this.allowedAddresses.addAddress(host, family);
    } else if (HOST_NAME.test(host)) {
      this.allowedHosts.add(host);
    } else {
      throw new AllowListError(entry, 'not a host name, an IP address or a CIDR range');
    }
  }

  /**
   * Checks what can be checked without DNS: the scheme, and the address when the host is
   * a literal IP (no lookup happens for those). Returns the parsed URL.
   * @throws PolicyRefusal
   */
  checkUrl(url: string | URL): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PolicyRefusal('the URL is not valid');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new PolicyRefusal('the URL is not allowed: only http and https can be used');
    }
    const host = normalizeHost(parsed.hostname);
    if (ipFamily(host)) this.checkAddress(host, host);
    return parsed;
  }

  /**
   * Refuses `address` (which `hostname` resolved to) when it lies in a restricted range
   * that the allow-list does not open, or is an IPv6 address embedding an IPv4 address
   * that is (IPv4-compatible, IPv4-mapped, NAT64, 6to4, Teredo: see embedded-ipv4.ts).
   * @throws PolicyRefusal
   */
  checkAddress(hostname: string, address: string): void {
    const host = normalizeHost(hostname);
    if (this.allowedHosts.has(host)) return;
    const family = ipFamily(address);
    if (!family) throw new PolicyRefusal(`the URL is not allowed: ${host} did not resolve to an address`);
    if (this.allowedAddresses.check(address, family)) return;
    const where = (what: string): string => (host === address ? `${address} is ${what}` : `${host} is at ${address}, ${what}`);
    const restricted = restrictedRange(address, family);
    if (restricted) throw new PolicyRefusal(`the URL is not allowed: ${where(RANGE_WORDS[restricted])}`);
    const embedded = family === 'ipv6' ? embeddedIpv4(address) : undefined;
    if (!embedded || this.allowedAddresses.check(embedded.ipv4, 'ipv4')) return;
    const inner = restrictedRange(embedded.ipv4, 'ipv4');
    if (!inner) return;
    const what = `${formWords(embedded.form)} for ${embedded.ipv4}, ${RANGE_WORDS[inner]}`;
    throw new PolicyRefusal(`the URL is not allowed: ${where(what)}`);
  }

  private refusalFor(hostname: string, addresses: readonly dns.LookupAddress[]): NodeJS.ErrnoException | undefined {
    if (addresses.length === 0) return Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
    try {
      for (const { address } of addresses) this.checkAddress(hostname, address);
      return undefined;
    } catch (error) {
      return error as PolicyRefusal;
    }
  }

  /**
   * A `lookup` for got (`dnsLookup`) and node's http: resolves, then checks every address
   * before the socket connects. Node calls it for each connection, redirects included.
   */
  readonly lookup: net.LookupFunction = (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    this.resolve(hostname, family).then(
      (addresses) => {
        const refusal = this.refusalFor(hostname, addresses);
        const first = addresses[0];
        if (refusal) callback(refusal, '');
        else if (options.all) callback(null, addresses);
        else if (first) callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}
