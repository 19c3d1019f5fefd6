// The harness itself: the project's asterisk-config/ runs on a real Asterisk 22.
import { expect } from 'chai';
import { sharedAsterisk } from '../support/asterisk/index.js';

describe('Asterisk 22 with the project\'s asterisk-config/', function () {
  it('starts from the shipped files, with the ARI user\'s password taken from the environment by from-env.sh', async function () {
    const asterisk = await sharedAsterisk();
    expect(asterisk.version).to.match(/^Asterisk 22\./);
    const ping = await asterisk.ari('GET', '/ari/asterisk/ping');
    expect(ping.status).to.equal(200);
    // A wrong password is refused: the user exists only with the password from the environment.
    const refused = await fetch(`${asterisk.url}/ari/asterisk/ping`, { headers: { authorization: `Basic ${Buffer.from('opentact:wrong').toString('base64')}` }, signal: AbortSignal.timeout(5000) });
    expect(refused.status).to.equal(401);
  });

  it('starts without an ERROR line: whatever `docker compose logs asterisk` shows in red is a real problem', async function () {
    const asterisk = await sharedAsterisk();
    const startUp = asterisk.log.slice(0, asterisk.log.findIndex((line) => line.text.includes('Asterisk Ready')) + 1);
    expect(startUp.length).to.be.greaterThan(0);
    expect(startUp.filter((line) => /\bERROR\b/.test(line.text)).map((line) => line.text)).to.deep.equal([]);
  });

  it('routes a DID from the tester context into Stasis(opentact, DID) through the shipped from-trunk context', async function () {
    const asterisk = await sharedAsterisk();
    expect(asterisk.cli('dialplan show 15551230000@from-trunk')).to.include('Stasis(${OPENTACT_APP},${EXTEN})');
    expect(asterisk.cli('dialplan show opentact-tester')).to.include('Goto(from-trunk,${EXTEN},1)');
  });
});
