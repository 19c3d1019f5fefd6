import { expect } from 'chai';
import { onlyProblem, problemsOf, summary, verb, verbs } from './helpers.js';

describe('xml: <Error> branches', () => {
  it('attaches a sibling <Error> to the verb right before it, and leaves it out of the sequence', () => {
    const list = verbs(`
      <Play>http://a.example/x.wav</Play>
      <Error tag="play-failed" say="TRUE"><Say>Sorry</Say><Hangup/></Error>
      <Hangup/>`);
    expect(list.map((v) => v.kind)).to.deep.equal(['Play', 'Hangup']);
    const onError = list[0]?.onError;
    expect(onError).to.deep.include({
      kind: 'Error',
      form: 'sibling',
      tag: 'play-failed',
      say: true,
      path: 'Response/Error[1]',
      position: { line: 3, column: 7 },
    });
    expect(onError?.verbs.map((v) => v.path)).to.deep.equal(['Response/Error[1]/Say[0]', 'Response/Error[1]/Hangup[1]']);
    expect(list[1]?.path).to.equal('Response/Hangup[2]');
    expect(list[1]?.onError).to.equal(undefined);
  });

  it('accepts a sibling <Error> after any verb, even one that takes no Error child', () => {
    for (const v of ['<Answer/>', '<Say>x</Say>', '<Pause/>', '<Hangup/>', '<Call field="to" value="1"/>']) {
      const list = verbs(`${v}<Error/>`);
      expect(list, v).to.have.length(1);
      expect(list[0]?.onError?.form, v).to.equal('sibling');
    }
  });

  it('reads an <Error> child of Play, Callback, Gather, Dial, Curl and Record', () => {
    const docs = [
      '<Play url="http://a.example/x.wav"><Error tag="e"/></Play>',
      '<Play><Error tag="e"/>http://a.example/x.wav</Play>',
      '<Callback url="http://a.example"><Error tag="e"/></Callback>',
      '<Gather><Error tag="e"/></Gather>',
      '<Dial><To>12</To><Error tag="e"/></Dial>',
      '<Curl url="http://a.example"><Error tag="e"/></Curl>',
      '<Record><Error tag="e"/></Record>',
    ];
    for (const doc of docs) {
      const [only] = verbs(doc);
      expect(only?.onError, doc).to.deep.include({ form: 'child', tag: 'e', say: false, verbs: [] });
    }
  });

  it('accepts play as an alias of say', () => {
    expect(verbs('<Hangup/><Error play="true"/>')[0]?.onError?.say).to.equal(true);
    const both = onlyProblem('<Response><Hangup/><Error say="true" play="false"/></Response>');
    expect(both.code).to.equal('invalid_value');
    expect(both.message).to.contain('say').and.contain('play');
  });

  it('prefers the Error child when a verb has both; the sibling stays valid but is dropped', () => {
    const list = verbs(`
      <Callback url="http://a.example"><Error tag="child"/></Callback>
      <Error tag="sibling"/>
      <Say>next</Say>`);
    expect(list.map((v) => v.kind)).to.deep.equal(['Callback', 'Say']);
    expect(list[0]?.onError?.tag).to.equal('child');
    // Still checked, though it never runs.
    expect(summary('<Response><Curl url="http://a.example"><Error/></Curl><Error bogus="1"/></Response>')).to.deep.equal([
      'unknown_attribute 1:62 Response/Error[1]',
    ]);
  });

  it('in a <Record>, a leading <Error> is the Record’s own; one after a verb belongs to that verb', () => {
    const record = verb(
      'Record',
      '<Record><Error tag="record"/><Play>http://a.example/x.wav</Play><Error tag="play"/><Pause/></Record>',
    );
    expect(record.onError).to.deep.include({ tag: 'record', form: 'child', path: 'Response/Record[0]/Error[0]' });
    expect(record.verbs.map((v) => v.kind)).to.deep.equal(['Play', 'Pause']);
    expect(record.verbs[0]?.onError).to.deep.include({ tag: 'play', form: 'sibling' });
  });

  it('attaches siblings inside nested sequences (Call, DTMF, Default, Error)', () => {
    const [call] = verbs('<Call field="to" value="1"><Say>a</Say><Error tag="x"/></Call>');
    expect(call?.kind === 'Call' && call.verbs[0]?.onError?.tag).to.equal('x');
    const gather = verb(
      'Gather',
      '<Gather><DTMF value="1"><Hangup/><Error tag="d"/></DTMF><Default><Hangup/><Error tag="f"/></Default></Gather>',
    );
    expect(gather.branches[0]?.verbs[0]?.onError?.tag).to.equal('d');
    expect(gather.default?.verbs[0]?.onError?.tag).to.equal('f');
    const [outer] = verbs('<Hangup/><Error><Say>a</Say><Error tag="inner"/></Error>');
    expect(outer?.onError?.verbs[0]?.onError?.tag).to.equal('inner');
  });

  it('rejects an <Error> first in a sequence or right after another <Error>', () => {
    const doc = [
      '<Response>', //
      '  <Error/>',
      '  <Say>a</Say>',
      '  <Error/>',
      '  <Error tag="second"/>',
      '  <Call field="to" value="1"><Error/></Call>',
      '</Response>',
    ].join('\n');
    expect(summary(doc)).to.deep.equal([
      'unexpected_element 2:3 Response/Error[0]',
      'unexpected_element 5:3 Response/Error[3]',
      'unexpected_element 6:30 Response/Call[4]/Error[0]',
    ]);
    const [first, second] = problemsOf(doc);
    expect(first?.message).to.contain('must follow the verb it handles or be inside it');
    expect(second?.message).to.contain('follows another <Error>');
  });

  it('allows at most one Error child', () => {
    const p = onlyProblem('<Response>\n<Gather>\n  <Error/>\n  <Error/>\n</Gather>\n</Response>');
    expect(p).to.include({ code: 'unexpected_element', line: 4, column: 3, path: 'Response/Gather[0]/Error[1]' });
    expect(p.message).to.contain('at most one <Error>');
    expect(onlyProblem('<Response><Play url="http://a.example/x"><Error/><Error/></Play></Response>').code).to.equal(
      'unexpected_element',
    );
  });

  it('rejects an <Error> inside a verb that takes no children', () => {
    const p = onlyProblem('<Response><Say>hi<Error/></Say></Response>');
    expect(p).to.include({ code: 'unexpected_element', path: 'Response/Say[0]/Error[0]' });
    expect(p.message).to.contain('right after');
  });
});
