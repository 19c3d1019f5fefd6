import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../../lib/config/index.js';

describe('config: loadConfig', function () {
  let dir: string;
  let appsFile: string;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-config-'));
    appsFile = path.join(dir, 'apps.yaml');
    await writeFile(
      appsFile,
      'apps:\n  - uuid: u-1\n    name: Sales\n    numbers: ["1"]\n    secret: ${SALES_SECRET}\n    xml: <Response><Hangup/></Response>\n',
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('has defaults for ARI, HTTP and the drain, and no ARI without ARI_URL', function () {
    const config = loadConfig({});
    expect(config.ari).to.equal(undefined);
    expect(config.apps).to.deep.equal([]);
    expect(config.http.port).to.equal(8080);
    expect(config.shutdownGraceMs).to.equal(30_000);
  });

  it('reads the ARI settings', function () {
    const config = loadConfig({ ARI_URL: 'http://asterisk:8088/ari', ARI_USERNAME: 'u', ARI_PASSWORD: 'p', ARI_REQUEST_TIMEOUT_MS: '750' });
    expect(config.ari).to.deep.equal({
      url: 'http://asterisk:8088',
      username: 'u',
      password: 'p',
      app: 'opentact',
      requestTimeoutMs: 750,
      maxConnections: 50,
    });
    expect(loadConfig({ ARI_URL: 'http://a:8088', ARI_USERNAME: 'u', ARI_PASSWORD: 'p', ARI_MAX_CONNECTIONS: '400' }).ari?.maxConnections).to.equal(400);
  });

  it('names the setting that cannot be used', function () {
    expect(() => loadConfig({ ARI_URL: 'asterisk:8088' })).to.throw(ConfigError, /^ARI_URL: /);
    expect(() => loadConfig({ ARI_URL: 'http://a:8088' })).to.throw(ConfigError, /^ARI_USERNAME: is required/);
    expect(() => loadConfig({ ARI_APP: 'bad name' })).to.throw(ConfigError, /^ARI_APP: /);
    expect(() => loadConfig({ HTTP_PORT: '70000' })).to.throw(ConfigError, /^HTTP_PORT: /);
    expect(() => loadConfig({ SHUTDOWN_GRACE_MS: '-1' })).to.throw(ConfigError, /^SHUTDOWN_GRACE_MS: /);
  });

  it('loads APPS_FILE and puts app secrets beside SIGNING_SECRETS in one store', function () {
    const config = loadConfig({ APPS_FILE: appsFile, SALES_SECRET: 'from-env', SIGNING_SECRETS: 'other=x' });
    expect(config.apps.map((a) => a.name)).to.deep.equal(['Sales']);
    expect(config.secrets.get('u-1')).to.equal('from-env');
    expect(config.secrets.get('other')).to.equal('x');
  });

  it('refuses two different secrets for one app', function () {
    expect(() => loadConfig({ APPS_FILE: appsFile, SALES_SECRET: 'a', SIGNING_SECRETS: 'u-1=b' })).to.throw(ConfigError, /^SIGNING_SECRETS: /);
  });
});
