import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { AppsFileError, ConfigError, loadAppsFile, parseApps } from '../../../lib/config/index.js';

const OPTIONS = { maxBytes: 256 * 1024, env: { SALES_SECRET: 's3cret' } };
const BASE = { uuid: 'u-1', name: 'Sales', numbers: ['15551234567'], xml: '<Response><Hangup/></Response>' };

function parse(apps: unknown[], env: NodeJS.ProcessEnv = OPTIONS.env) {
  return parseApps({ apps }, 'apps.yaml', { ...OPTIONS, env });
}

function problem(apps: unknown[], env?: NodeJS.ProcessEnv): AppsFileError {
  try {
    parse(apps, env);
  } catch (error) {
    if (error instanceof AppsFileError) return error;
    throw error;
  }
  throw new Error('expected an AppsFileError');
}

describe('config: apps file', function () {
  it('reads a static app with its defaults', function () {
    const [app] = parse([BASE]);
    expect(app).to.include({ uuid: 'u-1', name: 'Sales', autoAnswer: true });
    expect(app?.numbers).to.deep.equal(['15551234567']);
    expect(app?.data).to.deep.equal({});
    expect(app?.source.kind).to.equal('static');
  });

  it('reads a webhook app: method, budget, fallback, events_url; drops a leading + from numbers', function () {
    const [app] = parse([
      {
        uuid: 'u-2',
        name: 'Hook',
        numbers: ['+15550001', 15550002],
        data: { plan: 'gold', n: [1, 2] },
        auto_answer: false,
        webhook_url: 'https://example.com/hook',
        webhook_method: 'get',
        webhook_request_timeout: 800,
        fallback_xml: '<Response><Hangup/></Response>',
        events_url: 'https://example.com/events',
      },
    ]);
    expect(app?.numbers).to.deep.equal(['15550001', '15550002']);
    expect(app?.autoAnswer).to.equal(false);
    expect(app?.eventsUrl).to.equal('https://example.com/events');
    expect(app?.source).to.deep.include({ kind: 'webhook', url: 'https://example.com/hook', method: 'GET', timeoutMs: 800 });
    expect(app?.source.kind === 'webhook' && app.source.fallback?.verbs).to.have.length(1);
  });

  it('defaults a webhook to POST and 5000 ms', function () {
    const [app] = parse([{ uuid: 'u', name: 'H', numbers: ['1'], webhook_url: 'http://h/x' }]);
    expect(app?.source).to.deep.include({ method: 'POST', timeoutMs: 5000 });
  });

  it('names the app and the field of a bad URL', function () {
    const error = problem([BASE, { uuid: 'u-2', name: 'Sales', numbers: ['2'], webhook_url: 'ftp://x' }]);
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.field).to.equal('apps[1] (Sales).webhook_url');
    expect(error.message).to.equal('APPS_FILE: apps.yaml: apps[1] (Sales).webhook_url: must be an http(s) URL');
  });

  it('shows the XmlError of a static document with its line and column', function () {
    const error = problem([{ ...BASE, xml: '<Response>\n  <Sya>hi</Sya>\n</Response>' }]);
    expect(error.field).to.equal('apps[0] (Sales).xml');
    expect(error.problem).to.match(/^2:3: unknown_element /);
  });

  it('checks fallback_xml too', function () {
    const error = problem([{ uuid: 'u', name: 'H', numbers: ['1'], webhook_url: 'http://h/x', fallback_xml: '<Nope/>' }]);
    expect(error.field).to.equal('apps[0] (H).fallback_xml');
    expect(error.problem).to.match(/root/);
  });

  it('refuses a number routed to two apps', function () {
    const error = problem([BASE, { ...BASE, uuid: 'u-2', name: 'Support', numbers: ['+15551234567'] }]);
    expect(error.field).to.equal('apps[1] (Support).numbers[0]');
    expect(error.problem).to.equal('15551234567 is already routed to apps[0] (Sales)');
  });

  it('refuses duplicate uuids, unknown fields, both or neither of xml and webhook_url', function () {
    expect(problem([BASE, { ...BASE, numbers: ['2'] }]).field).to.equal('apps[1] (Sales).uuid');
    expect(problem([{ ...BASE, auto_answr: true }]).field).to.equal('apps[0] (Sales).auto_answr');
    expect(problem([{ ...BASE, webhook_url: 'http://h/' }]).problem).to.match(/either xml or webhook_url/);
    const { xml: _xml, ...neither } = BASE;
    expect(problem([neither]).problem).to.match(/either xml or webhook_url/);
    expect(problem([{ ...BASE, webhook_method: 'GET' }]).field).to.equal('apps[0] (Sales).webhook_method');
  });

  it('refuses bad values: name, numbers, method, budget, auto_answer, data', function () {
    expect(problem([{ ...BASE, name: '' }]).field).to.equal('apps[0].name');
    expect(problem([{ ...BASE, numbers: 'x' }]).field).to.equal('apps[0] (Sales).numbers');
    expect(problem([{ ...BASE, numbers: ['1 2'] }]).field).to.equal('apps[0] (Sales).numbers[0]');
    const hook = { uuid: 'u', name: 'H', numbers: ['1'], webhook_url: 'http://h/x' };
    expect(problem([{ ...hook, webhook_method: 'PUT' }]).field).to.equal('apps[0] (H).webhook_method');
    expect(problem([{ ...hook, webhook_request_timeout: 50 }]).field).to.equal('apps[0] (H).webhook_request_timeout');
    expect(problem([{ ...BASE, auto_answer: 'yes' }]).field).to.equal('apps[0] (Sales).auto_answer');
    expect(problem([{ ...BASE, data: [1] }]).field).to.equal('apps[0] (Sales).data');
  });

  it('reads ${ENV_NAME} secrets from the environment and names a missing one', function () {
    const [app] = parse([{ ...BASE, secret: '${SALES_SECRET}' }]);
    expect(app?.secret).to.equal('s3cret');
    const error = problem([{ ...BASE, secret: '${NOPE_SECRET}' }], {});
    expect(error.field).to.equal('apps[0] (Sales).secret');
    expect(error.problem).to.equal('environment variable NOPE_SECRET is not set');
  });

  it('refuses a file without an apps list', function () {
    expect(() => parseApps({ app: [] }, 'apps.yaml', OPTIONS)).to.throw(AppsFileError, /apps: must be a list/);
  });

  describe('files', function () {
    let dir: string;
    before(async function () {
      dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-apps-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('reads YAML and JSON files', async function () {
      const yaml = path.join(dir, 'apps.yaml');
      await writeFile(yaml, 'apps:\n  - uuid: u-1\n    name: Sales\n    numbers: ["15551234567"]\n    xml: <Response><Hangup/></Response>\n');
      const json = path.join(dir, 'apps.json');
      await writeFile(json, JSON.stringify({ apps: [BASE] }));
      expect(loadAppsFile(yaml, OPTIONS)[0]?.name).to.equal('Sales');
      expect(loadAppsFile(json, OPTIONS)[0]?.name).to.equal('Sales');
    });

    it('reports a missing file and unreadable YAML with the file name', async function () {
      const missing = path.join(dir, 'missing.yaml');
      expect(() => loadAppsFile(missing, OPTIONS)).to.throw(AppsFileError, `APPS_FILE: ${missing}: cannot be read`);
      const bad = path.join(dir, 'bad.yaml');
      await writeFile(bad, 'apps: [\n');
      expect(() => loadAppsFile(bad, OPTIONS)).to.throw(AppsFileError, /neither YAML nor JSON/);
    });
  });
});
