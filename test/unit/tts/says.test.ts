import { expect } from 'chai';
import { saysOf } from '../../../lib/tts/says.js';
import { parseDocument } from '../../../lib/xml/index.js';

describe('saysOf', () => {
  it('finds every Say: nested sequences, Gather prompts and branches, Error branches', () => {
    const xml = `<Response>
      <Say>one</Say>
      <Call field="from" value=""><Say>two</Say></Call>
      <Gather>
        <Say lang="fr-FR">three</Say>
        <DTMF value="1"><Say>four</Say></DTMF>
        <Default><Say>five</Say></Default>
        <Error><Say>six</Say></Error>
      </Gather>
      <Callback url="https://example.com/next"/>
      <Error say="true"><Say gender="MALE">seven</Say></Error>
      <Record><Say>eight</Say></Record>
    </Response>`;
    const says = saysOf(parseDocument(xml));
    expect(says.map((s) => s.text)).to.deep.equal(['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight']);
    expect(says[2]?.voice.lang).to.equal('fr-FR');
    expect(says[6]?.voice.gender).to.equal('MALE');
  });
});
