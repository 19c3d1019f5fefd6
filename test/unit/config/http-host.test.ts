// HTTP_HOST: where the http role binds (issue 9, item 10).
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../../lib/config/index.js';

describe('config: HTTP_HOST', function () {
  it('defaults to 0.0.0.0 (every interface, as the Docker set-up needs)', function () {
    expect(loadConfig({}).http).to.deep.equal({ host: '0.0.0.0', port: 8080 });
  });

  it('takes an IPv4 or IPv6 address or a host name', function () {
    for (const host of ['127.0.0.1', '10.1.2.3', '::', '::1', 'fd00::5', 'localhost', 'media.internal']) {
      expect(loadConfig({ HTTP_HOST: ` ${host} ` }).http.host, host).to.equal(host);
    }
  });

  it('refuses a URL, a port, brackets or garbage, naming the setting', function () {
    for (const bad of ['http://127.0.0.1', '127.0.0.1:8080', '[::1]', 'two words', '-bad-.example']) {
      expect(() => loadConfig({ HTTP_HOST: bad }), bad).to.throw(ConfigError, /^HTTP_HOST: must be an IP address/);
    }
  });
});
