import { expect } from 'chai';
import { XmlError, formatProblem, parseDocument } from '../../../lib/xml/index.js';
import { onlyProblem, problemsOf } from './helpers.js';

describe('xml: rejected documents', () => {
  it('lists every problem in document order, each with line, column and path', () => {
    const doc = [
      '<Response>', // 1
      '  <Say loop="0" voice="x">Hi</Say>', // 2
      '  <Gather numDigits="4" length="2">', // 3
      '    <DTMF value="1"/>', // 4
      '    <DTMF value="1"/>', // 5
      '    <Hangup/>', // 6
      '  </Gather>', // 7
      '  <Bogus/>', // 8
      '  <Callback timeout="5s"/>', // 9
      '  <Pause length="3600001">text</Pause>', // 10
      '  <DTMF value="2"/>', // 11
      '</Response>', // 12
    ].join('\n');
    expect(problemsOf(doc)).to.deep.equal([
      {
        code: 'out_of_range',
        message: '<Say> loop="0" is out of range: expected a whole number from 1 to 100',
        line: 2,
        column: 8,
        path: 'Response/Say[0]',
      },
      {
        code: 'unknown_attribute',
        message: '<Say> has no attribute "voice"; it takes text, lang, gender, type, code, loop',
        line: 2,
        column: 17,
        path: 'Response/Say[0]',
      },
      {
        code: 'invalid_value',
        message: '<Gather> has both numDigits and length; give only one',
        line: 3,
        column: 25,
        path: 'Response/Gather[1]',
      },
      {
        code: 'invalid_value',
        message: '<DTMF> value="1" repeats the one of Response/Gather[1]/DTMF[0]',
        line: 5,
        column: 11,
        path: 'Response/Gather[1]/DTMF[1]',
      },
      {
        code: 'unexpected_element',
        message:
          '<Hangup> is not allowed inside <Gather>; <Gather> takes only Say, Play, Pause, DTMF, Default and Error',
        line: 6,
        column: 5,
        path: 'Response/Gather[1]/Hangup[2]',
      },
      {
        code: 'unknown_element',
        message: '<Bogus> is not an element of Opentact XML',
        line: 8,
        column: 3,
        path: 'Response/Bogus[2]',
      },
      {
        code: 'missing_attribute',
        message: '<Callback> needs a url attribute',
        line: 9,
        column: 3,
        path: 'Response/Callback[3]',
      },
      {
        code: 'invalid_value',
        message: '<Callback> timeout="5s" is not valid: expected a whole number of milliseconds from 100 to 120000',
        line: 9,
        column: 13,
        path: 'Response/Callback[3]',
      },
      {
        code: 'out_of_range',
        message: '<Pause> length="3600001" is out of range: expected a whole number of milliseconds from 0 to 3600000',
        line: 10,
        column: 10,
        path: 'Response/Pause[4]',
      },
      {
        code: 'unexpected_text',
        message: '<Pause> takes no text, found "text"',
        line: 10,
        column: 27,
        path: 'Response/Pause[4]',
      },
      {
        code: 'unexpected_element',
        message: '<DTMF> is not allowed inside <Response>; <DTMF> belongs inside a <Gather>',
        line: 11,
        column: 3,
        path: 'Response/DTMF[5]',
      },
    ]);
  });

  it('throws an XmlError whose message names the first problem and how many more', () => {
    try {
      parseDocument('<Response>\n  <Foo/>\n  <Bar/>\n</Response>');
      expect.fail('accepted');
    } catch (error) {
      if (!(error instanceof XmlError)) throw error;
      expect(error.code).to.equal('xml_invalid');
      expect(error.message).to.equal(
        '2:3: unknown_element <Foo> is not an element of Opentact XML (Response/Foo[0]) (and 1 more)',
      );
      expect(error.first.path).to.equal('Response/Foo[0]');
      expect(error.problems.map(formatProblem)[1]).to.equal(
        '3:3: unknown_element <Bar> is not an element of Opentact XML (Response/Bar[1])',
      );
    }
  });

  describe('each code', () => {
    it('root: the root element is not Response', () => {
      expect(onlyProblem('<?xml version="1.0"?>\n<Reply>\n  <Say>x</Say>\n</Reply>')).to.deep.equal({
        code: 'root',
        message: 'the root element must be <Response>, not <Reply>',
        line: 2,
        column: 1,
        path: 'Reply',
      });
    });

    it('unknown_element: named in the message, its contents not read', () => {
      expect(onlyProblem('<Response>\n  <Gather>\n    <Sya>x<Bad/></Sya>\n  </Gather>\n</Response>')).to.deep.equal({
        code: 'unknown_element',
        message: '<Sya> is not an element of Opentact XML',
        line: 3,
        column: 5,
        path: 'Response/Gather[0]/Sya[0]',
      });
    });

    it('unknown_element: names that exist on JavaScript objects are not elements', () => {
      for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
        expect(onlyProblem(`<Response><${name}/></Response>`).code, name).to.equal('unknown_element');
      }
      expect(onlyProblem('<Response><Say constructor="x">a</Say></Response>').code).to.equal('unknown_attribute');
    });

    it('unexpected_element: a known element in the wrong place', () => {
      const cases: [string, string, string][] = [
        ['<To>12</To>', 'Response/To[0]', 'inside a <Dial>'],
        ['<Default/>', 'Response/Default[0]', 'inside a <Gather>'],
        ['<Dial><To>12</To><Say>x</Say></Dial>', 'Response/Dial[0]/Say[1]', 'takes only To and Error'],
        ['<Dial><To>12<Say>x</Say></To></Dial>', 'Response/Dial[0]/To[0]/Say[0]', '<To> takes no child elements'],
        ['<Dial><To>12<Error/></To></Dial>', 'Response/Dial[0]/To[0]/Error[0]', '<To> takes no child elements'],
        ['<Response/>', 'Response/Response[0]', 'at the root'],
        ['<Gather><Gather/></Gather>', 'Response/Gather[0]/Gather[0]', 'takes only Say'],
        ['<Callback url="http://a.example"><Say>x</Say></Callback>', 'Response/Callback[0]/Say[0]', 'takes only Error'],
      ];
      for (const [body, path, hint] of cases) {
        const p = onlyProblem(`<Response>${body}</Response>`);
        expect(p.code, body).to.equal('unexpected_element');
        expect(p.path, body).to.equal(path);
        expect(p.message, body).to.contain(hint);
      }
    });

    it('unknown_attribute: exact names, with a hint for a wrong case', () => {
      const p = onlyProblem('<Response>\n  <Gather\n     Timeout="100"/>\n</Response>');
      expect(p).to.deep.include({ code: 'unknown_attribute', line: 3, column: 6, path: 'Response/Gather[0]' });
      expect(p.message).to.contain('"Timeout"').and.contain('did you mean "timeout"');
      expect(onlyProblem('<Response xmlns="urn:x"/>')).to.include({ code: 'unknown_attribute', path: 'Response' });
    });

    it('missing_attribute: at the element', () => {
      expect(onlyProblem('<Response>\n\t<Curl method="GET"/>\n</Response>')).to.deep.equal({
        code: 'missing_attribute',
        message: '<Curl> needs a url attribute',
        line: 2,
        column: 2,
        path: 'Response/Curl[0]',
      });
    });

    it('invalid_value: numbers must be plain non-negative decimal integers', () => {
      for (const value of ['5s', '1.5', '-1', '+1', '', ' ', '1e3', '0x10', '1 000']) {
        const p = onlyProblem(`<Response><Pause length="${value}"/></Response>`);
        expect(p.code, value).to.equal('invalid_value');
        expect(p.message).to.contain(`length="${value.trim()}"`).and.contain('whole number');
      }
      expect(onlyProblem('<Response><Pause length="99999999999999999999999"/></Response>').code).to.equal('out_of_range');
      expect(parseDocument('<Response><Pause length=" 007 "/></Response>').verbs[0]).to.include({ length: 7 });
    });

    it('invalid_value: Gather method and body need url', () => {
      const problems = problemsOf('<Response>\n  <Gather method="GET" body="true"/>\n</Response>');
      expect(problems.map((p) => [p.code, p.line, p.column])).to.deep.equal([
        ['invalid_value', 2, 11],
        ['invalid_value', 2, 24],
      ]);
      expect(problems[0]?.message).to.equal('<Gather> method needs url: it has no effect without it');
    });

    it('unexpected_text: at the first non-blank character', () => {
      expect(onlyProblem('<Response>\n  <Hangup/>\n  oops\n</Response>')).to.deep.equal({
        code: 'unexpected_text',
        message: '<Response> takes no text, found "oops"',
        line: 3,
        column: 3,
        path: 'Response',
      });
      expect(onlyProblem('<Response><Gather><![CDATA[x]]></Gather></Response>')).to.include({
        code: 'unexpected_text',
        path: 'Response/Gather[0]',
      });
    });

    it('out_of_range: names the attribute, the value and the range', () => {
      const p = onlyProblem('<Response><Dial timeout="600001"><To>12</To></Dial></Response>');
      expect(p.code).to.equal('out_of_range');
      expect(p.message).to.equal(
        '<Dial> timeout="600001" is out of range: expected a whole number of milliseconds from 1000 to 600000',
      );
    });
  });
});
