import { expect } from 'chai';
import { onlyProblem, parse, verb, verbs } from './helpers.js';

describe('xml: verbs and their attributes', () => {
  describe('<Answer>', () => {
    it('defaults delay to 0 and has no tag', () => {
      const answer = verb('Answer', '<Answer/>');
      expect(answer).to.deep.equal({
        kind: 'Answer',
        path: 'Response/Answer[0]',
        position: { line: 1, column: 11 },
        delay: 0,
      });
    });

    it('reads delay and tag', () => {
      const answer = verb('Answer', '<Answer delay="60000" tag="hello"/>');
      expect(answer.delay).to.equal(60000);
      expect(answer.tag).to.equal('hello');
    });

    it('rejects a delay over 60000 ms', () => {
      const p = onlyProblem('<Response><Answer delay="60001"/></Response>');
      expect(p.code).to.equal('out_of_range');
      expect(p.message).to.contain('delay="60001"').and.contain('0 to 60000');
    });
  });

  describe('<Say>', () => {
    it('takes its text from the content, collapsing whitespace, with the default voice', () => {
      const say = verb('Say', '<Say>\n   Hello,\n\t  world!  </Say>');
      expect(say.text).to.equal('Hello, world!');
      expect(say.voice).to.deep.equal({ lang: 'en-US', gender: 'FEMALE', type: 'Standard' });
      expect(say.loop).to.equal(1);
    });

    it('takes its text from the text attribute', () => {
      expect(verb('Say', '<Say text="  Good   morning "/>').text).to.equal('Good morning');
    });

    it('accepts an empty text attribute beside content', () => {
      expect(verb('Say', '<Say text="">Hi</Say>').text).to.equal('Hi');
    });

    it('reads lang, gender, type, code and loop, normalising the case of the words', () => {
      const say = verb('Say', '<Say lang="fr-FR" gender="male" type="WAVENET" code="fr-FR-Wavenet-B" loop="100">Bonjour</Say>');
      expect(say.voice).to.deep.equal({ lang: 'fr-FR', gender: 'MALE', type: 'WaveNet', code: 'fr-FR-Wavenet-B' });
      expect(say.loop).to.equal(100);
      expect(verb('Say', '<Say type="standard" gender="Female">x</Say>').voice).to.deep.equal({
        lang: 'en-US',
        gender: 'FEMALE',
        type: 'Standard',
      });
    });

    it('decodes entities, character references and CDATA in the text', () => {
      expect(verb('Say', '<Say>Tom &amp; Jerry &lt;3 &#65;&#x42; <![CDATA[a < b & c]]></Say>').text).to.equal(
        'Tom & Jerry <3 AB a < b & c',
      );
    });

    it('accepts exactly 3000 characters and rejects 3001', () => {
      expect(verb('Say', `<Say>${'a'.repeat(3000)}</Say>`).text).to.have.length(3000);
      const p = onlyProblem(`<Response><Say>${'a'.repeat(3001)}</Say></Response>`);
      expect(p.code).to.equal('out_of_range');
      expect(p.message).to.contain('3001').and.contain('3000');
    });

    it('rejects a malformed language tag, an unknown gender or type, and a loop out of range', () => {
      expect(onlyProblem('<Response><Say lang="english!">x</Say></Response>')).to.include({ code: 'invalid_value' });
      expect(onlyProblem('<Response><Say gender="robot">x</Say></Response>').message).to.contain('FEMALE, MALE');
      expect(onlyProblem('<Response><Say type="Neural">x</Say></Response>').message).to.contain('Standard, WaveNet');
      expect(onlyProblem('<Response><Say loop="101">x</Say></Response>').code).to.equal('out_of_range');
      expect(onlyProblem('<Response><Say loop="0">x</Say></Response>').code).to.equal('out_of_range');
    });

    it('needs text from exactly one place', () => {
      const none = onlyProblem('<Response><Say>   </Say></Response>');
      expect(none).to.include({ code: 'missing_attribute', path: 'Response/Say[0]' });
      const both = onlyProblem('<Response><Say text="a">b</Say></Response>');
      expect(both.code).to.equal('invalid_value');
      expect(both.message).to.contain('content').and.contain('text attribute');
    });
  });

  describe('<Play>', () => {
    it('takes a URL from the content', () => {
      const play = verb('Play', '<Play> https://media.example.com/a.wav </Play>');
      expect(play.source).to.deep.equal({ kind: 'url', url: 'https://media.example.com/a.wav' });
      expect(play.loop).to.equal(1);
      expect(play.onError).to.equal(undefined);
    });

    it('takes a URL from the url attribute, and a loop', () => {
      const play = verb('Play', '<Play url="http://media.example.com/b.mp3?x=1&amp;y=2" loop="3"/>');
      expect(play.source).to.deep.equal({ kind: 'url', url: 'http://media.example.com/b.mp3?x=1&y=2' });
      expect(play.loop).to.equal(3);
    });

    it('plays a recording by its tag', () => {
      expect(verb('Play', '<Play record="greeting"/>').source).to.deep.equal({ kind: 'recording', tag: 'greeting' });
    });

    it('rejects no source, two sources, and URLs that are not absolute http(s)', () => {
      expect(onlyProblem('<Response><Play/></Response>').code).to.equal('missing_attribute');
      expect(onlyProblem('<Response><Play record="">  </Play></Response>').code).to.equal('missing_attribute');
      const two = onlyProblem('<Response><Play url="http://a.example/x.wav" record="r"/></Response>');
      expect(two.code).to.equal('invalid_value');
      expect(two.message).to.contain('url and record');
      const content = onlyProblem('<Response><Play>ftp://a.example/x.wav</Play></Response>');
      expect(content.code).to.equal('invalid_value');
      expect(content.message).to.contain('ftp://a.example/x.wav');
      for (const url of ['/x.wav', 'x.wav', 'http://', 'file:///etc/passwd', 'http:/x', 'http://a b/x.wav']) {
        const p = onlyProblem(`<Response><Play url="${url}"/></Response>`);
        expect(p.code, url).to.equal('invalid_value');
        expect(p.message).to.contain(url).and.contain('http');
      }
    });
  });

  describe('<Pause>', () => {
    it('defaults to 1000 ms with no stop key', () => {
      expect(verb('Pause', '<Pause/>')).to.include({ length: 1000, dtmfStop: '' });
    });

    it('reads length and dtmf_stop (keys upper-cased)', () => {
      expect(verb('Pause', '<Pause length="0" dtmf_stop="#*a"/>')).to.include({ length: 0, dtmfStop: '#*A' });
      expect(verb('Pause', '<Pause length="3600000" dtmf_stop=""/>')).to.include({ length: 3600000, dtmfStop: '' });
    });

    it('rejects a length over an hour and keys that are not telephone keys', () => {
      expect(onlyProblem('<Response><Pause length="3600001"/></Response>').code).to.equal('out_of_range');
      const keys = onlyProblem('<Response><Pause dtmf_stop="x"/></Response>');
      expect(keys.code).to.equal('invalid_value');
      expect(keys.message).to.contain('dtmf_stop="x"');
    });
  });

  describe('<Hangup>', () => {
    it('reads an optional tag', () => {
      expect(verb('Hangup', '<Hangup/>')).to.deep.equal({
        kind: 'Hangup',
        path: 'Response/Hangup[0]',
        position: { line: 1, column: 11 },
      });
      expect(verb('Hangup', '<Hangup tag="done"/>').tag).to.equal('done');
      expect(verb('Hangup', '<Hangup tag="  "/>').tag).to.equal(undefined);
    });
  });

  describe('<Callback>', () => {
    it('defaults to POST, query fields, 5000 ms', () => {
      expect(verb('Callback', '<Callback url="https://app.example.com/next"/>')).to.deep.equal({
        kind: 'Callback',
        path: 'Response/Callback[0]',
        position: { line: 1, column: 11 },
        url: 'https://app.example.com/next',
        method: 'POST',
        body: false,
        timeout: 5000,
      });
    });

    it('reads method in any case, body, timeout and tag', () => {
      const callback = verb(
        'Callback',
        '<Callback url=" http://app.example.com/x?a=1 " method="delete" body="TRUE" timeout="120000" tag="t"/>',
      );
      expect(callback).to.include({
        url: 'http://app.example.com/x?a=1',
        method: 'DELETE',
        body: true,
        timeout: 120000,
        tag: 't',
      });
      expect(verb('Callback', '<Callback url="http://a.example" method="Patch" timeout="100"/>')).to.include({
        method: 'PATCH',
        timeout: 100,
      });
      expect(verb('Callback', '<Callback url="http://a.example" method="get"/>').method).to.equal('GET');
    });

    it('needs a url and rejects bad values', () => {
      const missing = onlyProblem('<Response><Callback/></Response>');
      expect(missing).to.include({ code: 'missing_attribute', line: 1, column: 11, path: 'Response/Callback[0]' });
      expect(missing.message).to.contain('url');
      expect(onlyProblem('<Response><Callback url="http://a.example" method="PUT"/></Response>').message).to.contain(
        'method="PUT"',
      );
      expect(onlyProblem('<Response><Callback url="http://a.example" body="yes"/></Response>').message).to.contain(
        'true or false',
      );
      expect(onlyProblem('<Response><Callback url="http://a.example" timeout="99"/></Response>').code).to.equal(
        'out_of_range',
      );
      expect(onlyProblem('<Response><Callback url="http://a.example" timeout="120001"/></Response>').code).to.equal(
        'out_of_range',
      );
    });
  });

  describe('<Call>', () => {
    it('reads field (lower-cased) and value, and its verbs', () => {
      const call = verb('Call', '<Call field="FROM" value=" +15551234567 "><Say>hi</Say><Hangup/></Call>');
      expect(call.field).to.equal('from');
      expect(call.value).to.equal('+15551234567');
      expect(call.verbs.map((v) => v.kind)).to.deep.equal(['Say', 'Hangup']);
      expect(call.verbs[1]?.path).to.equal('Response/Call[0]/Hangup[1]');
    });

    it('accepts every field and an empty value', () => {
      for (const field of ['to', 'from', 'call', 'sca', 'state']) {
        expect(verb('Call', `<Call field="${field}" value=""/>`)).to.include({ field, value: '' });
      }
    });

    it('needs field and value', () => {
      expect(onlyProblem('<Response><Call value="x"/></Response>').message).to.contain('field');
      expect(onlyProblem('<Response><Call field="to"/></Response>').message).to.contain('value');
      expect(onlyProblem('<Response><Call field="tn" value="1"/></Response>').code).to.equal('invalid_value');
    });
  });

  describe('<Gather>', () => {
    it('has defaults and no target', () => {
      const gather = verb('Gather', '<Gather/>');
      expect(gather).to.deep.equal({
        kind: 'Gather',
        path: 'Response/Gather[0]',
        position: { line: 1, column: 11 },
        dtmfLength: 1,
        dtmfStop: '#',
        timeout: 5000,
        attempts: 1,
        prompts: [],
        branches: [],
      });
    });

    it('reads every attribute; a target only with url', () => {
      const gather = verb(
        'Gather',
        '<Gather dtmf_length="32" dtmf_stop="*" timeout="120000" attempts="10" url="https://a.example/d" method="get" body="true"/>',
      );
      expect(gather).to.include({ dtmfLength: 32, dtmfStop: '*', timeout: 120000, attempts: 10 });
      expect(gather.target).to.deep.equal({ url: 'https://a.example/d', method: 'GET', body: true });
      expect(verb('Gather', '<Gather url="https://a.example/d"/>').target).to.deep.equal({
        url: 'https://a.example/d',
        method: 'POST',
        body: false,
      });
      expect(verb('Gather', '<Gather dtmf_stop=""/>').dtmfStop).to.equal('');
    });

    it('accepts the aliases length, numDigits and finishOnKey', () => {
      expect(verb('Gather', '<Gather length="4"/>').dtmfLength).to.equal(4);
      expect(verb('Gather', '<Gather numDigits="5" finishOnKey="*"/>')).to.include({ dtmfLength: 5, dtmfStop: '*' });
    });

    it('sorts its children into prompts, branches, default and error, in any order', () => {
      const gather = verb(
        'Gather',
        `<Gather numDigits="2">
          <DTMF value="12"><Say>twelve</Say></DTMF>
          <Say>Enter a number</Say>
          <Default tag="other"><Hangup/></Default>
          <Play>http://a.example/beep.wav</Play>
          <DTMF value="*"/>
          <Pause length="500"/>
          <Error><Say>nothing</Say></Error>
        </Gather>`,
      );
      expect(gather.prompts.map((p) => `${p.kind} ${p.path}`)).to.deep.equal([
        'Say Response/Gather[0]/Say[1]',
        'Play Response/Gather[0]/Play[3]',
        'Pause Response/Gather[0]/Pause[5]',
      ]);
      expect(gather.branches.map((b) => b.value)).to.deep.equal(['12', '*']);
      expect(gather.branches[0]?.verbs[0]?.kind).to.equal('Say');
      expect(gather.default?.tag).to.equal('other');
      expect(gather.default?.verbs.map((v) => v.kind)).to.deep.equal(['Hangup']);
      expect(gather.onError?.form).to.equal('child');
      expect(gather.onError?.path).to.equal('Response/Gather[0]/Error[6]');
    });

    it('rejects out-of-range numbers and bad keys', () => {
      expect(onlyProblem('<Response><Gather numDigits="33"/></Response>').code).to.equal('out_of_range');
      expect(onlyProblem('<Response><Gather dtmf_length="0"/></Response>').code).to.equal('out_of_range');
      expect(onlyProblem('<Response><Gather attempts="11"/></Response>').code).to.equal('out_of_range');
      expect(onlyProblem('<Response><Gather timeout="50"/></Response>').code).to.equal('out_of_range');
      expect(onlyProblem('<Response><Gather finishOnKey="E"/></Response>').message).to.contain('finishOnKey="E"');
    });
  });

  describe('<DTMF> and <Default>', () => {
    it('upper-cases DTMF values and reads their verbs', () => {
      const gather = verb('Gather', '<Gather><DTMF value=" 1a#* "><Hangup/></DTMF></Gather>');
      expect(gather.branches[0]).to.deep.include({ kind: 'DTMF', value: '1A#*', path: 'Response/Gather[0]/DTMF[0]' });
    });

    it('needs a DTMF value of 1 to 32 keys', () => {
      expect(onlyProblem('<Response><Gather><DTMF/></Gather></Response>').code).to.equal('missing_attribute');
      expect(onlyProblem('<Response><Gather><DTMF value=""/></Gather></Response>').code).to.equal('invalid_value');
      expect(onlyProblem('<Response><Gather><DTMF value="1-2"/></Gather></Response>').code).to.equal('invalid_value');
      expect(onlyProblem(`<Response><Gather><DTMF value="${'1'.repeat(33)}"/></Gather></Response>`).code).to.equal(
        'out_of_range',
      );
      expect(verb('Gather', `<Gather><DTMF value="${'1'.repeat(32)}"/></Gather>`).branches).to.have.length(1);
    });
  });

  describe('<Dial> and <To>', () => {
    it('has defaults, and reads numbers and SIP URIs', () => {
      const dial = verb(
        'Dial',
        `<Dial>
          <To>+1 (555) 123-4567</To>
          <To>555.123.4567</To>
          <To> sip:alice@pbx.example.com;transport=tcp </To>
          <To>SIPS:bob@example.com</To>
        </Dial>`,
      );
      expect(dial.timeout).to.equal(30000);
      expect(dial.callerId).to.equal(undefined);
      expect(dial.targets.map((t) => [t.type, t.value, t.path])).to.deep.equal([
        ['number', '+15551234567', 'Response/Dial[0]/To[0]'],
        ['number', '5551234567', 'Response/Dial[0]/To[1]'],
        ['sip', 'sip:alice@pbx.example.com;transport=tcp', 'Response/Dial[0]/To[2]'],
        ['sip', 'SIPS:bob@example.com', 'Response/Dial[0]/To[3]'],
      ]);
      expect(dial.targets[0]?.position).to.deep.equal({ line: 2, column: 11 });
    });

    it('reads timeout and callerId, and its Error child', () => {
      const dial = verb('Dial', '<Dial timeout="600000" callerId="+442071234567"><To>12</To><Error/></Dial>');
      expect(dial).to.include({ timeout: 600000, callerId: '+442071234567' });
      expect(dial.onError?.form).to.equal('child');
    });

    it('rejects bad numbers, a missing To, and a bad callerId', () => {
      expect(onlyProblem('<Response><Dial><To>1</To></Dial></Response>').message).to.contain('"1"');
      expect(onlyProblem(`<Response><Dial><To>${'1'.repeat(21)}</To></Dial></Response>`).code).to.equal('invalid_value');
      expect(onlyProblem('<Response><Dial><To>call me</To></Dial></Response>').message).to.contain('call me');
      expect(onlyProblem('<Response><Dial><To>1+2</To></Dial></Response>').code).to.equal('invalid_value');
      expect(onlyProblem('<Response><Dial><To/></Dial></Response>').code).to.equal('missing_attribute');
      expect(onlyProblem('<Response><Dial><To>sip:</To></Dial></Response>').code).to.equal('invalid_value');
      const none = onlyProblem('<Response>\n  <Dial timeout="1000"></Dial>\n</Response>');
      expect(none).to.deep.equal({
        code: 'invalid_value',
        message: 'a <Dial> needs at least one <To>',
        line: 2,
        column: 3,
        path: 'Response/Dial[0]',
      });
      expect(onlyProblem('<Response><Dial callerId="abc"><To>12</To></Dial></Response>').message).to.contain(
        'callerId="abc"',
      );
      expect(onlyProblem('<Response><Dial timeout="999"><To>12</To></Dial></Response>').code).to.equal('out_of_range');
    });

    it('takes no attributes on To', () => {
      const p = onlyProblem('<Response><Dial><To type="sip">12</To></Dial></Response>');
      expect(p).to.include({ code: 'unknown_attribute', path: 'Response/Dial[0]/To[0]' });
      expect(p.message).to.contain('no attributes');
    });
  });

  describe('<Record>', () => {
    it('has defaults and reads its attributes', () => {
      expect(verb('Record', '<Record/>')).to.deep.equal({
        kind: 'Record',
        path: 'Response/Record[0]',
        position: { line: 1, column: 11 },
        timeout: 60000,
        dtmfStop: '#',
        verbs: [],
      });
      expect(verb('Record', '<Record tag="msg" timeout="3600000" dtmf_stop="1" asr="en-US"/>')).to.include({
        tag: 'msg',
        timeout: 3600000,
        dtmfStop: '1',
        asr: 'en-US',
      });
      expect(onlyProblem('<Response><Record timeout="999"/></Response>').code).to.equal('out_of_range');
    });

    it('runs its children while recording', () => {
      const record = verb('Record', '<Record><Say>Speak now</Say><Pause length="30000" dtmf_stop="#"/></Record>');
      expect(record.verbs.map((v) => v.kind)).to.deep.equal(['Say', 'Pause']);
    });
  });

  describe('<Curl>', () => {
    it('defaults to POST with a JSON body and 5000 ms', () => {
      expect(verb('Curl', '<Curl url="https://hooks.example.com/x"/>')).to.deep.equal({
        kind: 'Curl',
        path: 'Response/Curl[0]',
        position: { line: 1, column: 11 },
        url: 'https://hooks.example.com/x',
        method: 'POST',
        body: true,
        timeout: 5000,
      });
    });

    it('reads method, body and timeout; needs url', () => {
      expect(verb('Curl', '<Curl url="http://a.example" method="get" body="false" timeout="100"/>')).to.include({
        method: 'GET',
        body: false,
        timeout: 100,
      });
      expect(onlyProblem('<Response><Curl/></Response>').code).to.equal('missing_attribute');
      expect(onlyProblem('<Response><Curl url="http://a.example" tag="x"/></Response>').code).to.equal(
        'unknown_attribute',
      );
    });
  });

  describe('documents', () => {
    it('matches element names in any case and writes paths in canonical case', () => {
      const list = verbs('<say>a</say><SAY>b</SAY><gAtHeR><dtmf value="1"/></gAtHeR><hangup/>');
      expect(list.map((v) => v.path)).to.deep.equal([
        'Response/Say[0]',
        'Response/Say[1]',
        'Response/Gather[2]',
        'Response/Hangup[3]',
      ]);
      const doc = parse('<response><dial><to>12</to></dial></response>');
      expect(doc.verbs[0]?.kind).to.equal('Dial');
    });

    it('counts only elements in positions, not text or comments', () => {
      const list = verbs('\n  <!-- first -->\n  <Say>a</Say>\n  <?pi x?>\n  <Hangup/>\n');
      expect(list.map((v) => `${v.path} ${v.position.line}:${v.position.column}`)).to.deep.equal([
        'Response/Say[0] 3:3',
        'Response/Hangup[1] 5:3',
      ]);
    });

    it('accepts an empty Response, the XML prolog, and reports the size in bytes', () => {
      const doc = parse('<?xml version="1.0" encoding="UTF-8"?>\n<Response/>');
      expect(doc).to.deep.include({ kind: 'Response', path: 'Response', verbs: [], size: 50 });
      expect(parse('<Response><Say>é</Say></Response>').size).to.equal(34); // é is two bytes
    });

    it('keeps CRLF documents on the right lines', () => {
      const list = verbs('\r\n<Say>a</Say>\r\n  <Hangup/>\r\n');
      expect(list.map((v) => v.position)).to.deep.equal([
        { line: 2, column: 1 },
        { line: 3, column: 3 },
      ]);
    });
  });
});
