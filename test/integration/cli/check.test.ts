import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../support/cli.js';

describe('opentact-ari check', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-check-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('exits 0 and prints nothing when every document is valid', async () => {
    const result = await runCli(['check', 'test/fixtures/welcome.xml']);
    expect(result).to.include({ code: 0, stdout: '', stderr: '' });
  });

  it('prints FILE:LINE:COL: CODE message (path) for every problem and exits 1', async () => {
    const result = await runCli(['check', 'test/fixtures/welcome.xml', 'test/fixtures/broken.xml']);
    expect(result.code).to.equal(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[0]).to.match(/^test\/fixtures\/broken\.xml:2:21: unknown_attribute .*voice.* \(Response\/Say\[0\]\)$/);
    expect(lines[1]).to.match(/^test\/fixtures\/broken\.xml:3:11: out_of_range .*numDigits.*40.* \(Response\/Gather\[1\]\)$/);
    expect(lines[2]).to.match(/^test\/fixtures\/broken\.xml:4:21: unknown_element .*Sya.* \(Response\/Gather\[1\]\/DTMF\[0\]\/Sya\[0\]\)$/);
  });

  it('refuses a DOCTYPE and names where it stands', async () => {
    const file = path.join(dir, 'doctype.xml');
    await writeFile(file, '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaa">]>\n<Response><Say>&a;</Say></Response>\n');
    const result = await runCli(['check', file]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(new RegExp(`^${file}:2:1: doctype `));
  });

  it('prints a problem that quotes a line break on one line, where the broken end tag stands', async () => {
    const file = path.join(dir, 'nl.xml');
    await writeFile(file, '<Response></R\nesponse>\n');
    const result = await runCli(['check', file]);
    expect(result.code).to.equal(1);
    expect(result.stdout.trim().split('\n')).to.deep.equal([
      `${file}:1:11: syntax malformed end tag "</R\\nesponse>": an end tag is "</" and the element's name, then ">"`,
    ]);
  });

  it('lists the first 1000 problems of a document and says how many more were not shown', async () => {
    const file = path.join(dir, 'many.xml');
    await writeFile(file, `<Response>\n${'<Nope/>\n'.repeat(1234)}</Response>\n`);
    const result = await runCli(['check', file, 'test/fixtures/broken.xml']);
    expect(result.code).to.equal(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).to.have.length(1000 + 1 + 3);
    expect(lines[0]).to.equal(`${file}:2:1: unknown_element <Nope> is not an element of Opentact XML (Response/Nope[0])`);
    expect(lines[999]).to.match(new RegExp(`^${file}:1001:1: unknown_element .*\\(Response/Nope\\[999\\]\\)$`));
    expect(lines[1000]).to.equal(`${file}: 234 more problems not shown (the first 1000 are listed)`);
    expect(lines.slice(1001).every((line) => line.startsWith('test/fixtures/broken.xml:'))).to.equal(true);
  });

  it('lists exactly 1000 problems without a note', async () => {
    const file = path.join(dir, 'thousand.xml');
    await writeFile(file, `<Response>${'<Nope/>'.repeat(1000)}</Response>`);
    const result = await runCli(['check', file]);
    const lines = result.stdout.trim().split('\n');
    expect(lines).to.have.length(1000);
    expect(lines.every((line) => line.startsWith(`${file}:1:`))).to.equal(true);
  });

  it('says in one line when a file cannot be read, and exits 2', async () => {
    const result = await runCli(['check', path.join(dir, 'missing.xml')]);
    expect(result.code).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.match(/^opentact-ari: cannot read .*missing\.xml: ENOENT/);
  });

  it('reports an unusable setting by name, without a stack', async () => {
    const result = await runCli(['check', 'test/fixtures/welcome.xml'], { MAX_DOCUMENT_BYTES: 'lots' });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/^opentact-ari: configuration: MAX_DOCUMENT_BYTES: must be a whole number/);
    expect(result.stderr).not.to.match(/\n\s+at /);
  });
});
