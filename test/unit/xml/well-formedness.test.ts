// Issue 9, items 2 and 11: well-formedness problems are one line each, placed where the
// offending text stands; a declared encoding other than UTF-8 and `]]>` in text are refused.
import { expect } from 'chai';
import { XmlError, formatProblem, parseDocument } from '../../../lib/xml/index.js';
import { onlyProblem, parse, problemsOf } from './helpers.js';

describe('xml: well-formedness', () => {
  describe('problems are one line each, where the offending text stands', () => {
    it('places a broken end tag with a line break at its "</", quoting it on one line', () => {
      const p = onlyProblem('<Response></R\nesponse>\n');
      expect(p).to.include({ code: 'syntax', line: 1, column: 11, path: '' });
      expect(p.message).to.contain('</R\\nesponse>');
      expect(formatProblem(p)).not.to.match(/[\n\r]/);
    });

    it('never puts a control character in a message, whatever the document quotes', () => {
      const inputs = [
        '<Response></R\nesponse>',
        '<Response>\n<Pause length="1"\tlength="2"/></Response>',
        '<Response/>\nfirst\n\tsecond',
        'text\nbefore\n<Response/>',
        '<Response>\n<Pause length=1\n/></Response>',
        '<Response>\n  <Say a\n<b="c">x</Say></Response>',
      ];
      for (const input of inputs) {
        for (const p of problemsOf(input)) {
          // eslint-disable-next-line no-control-regex
          expect(p.message, JSON.stringify(input)).not.to.match(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/);
        }
      }
    });

    it('places a mismatched end tag at the end tag and names the start tag it should close', () => {
      const p = onlyProblem('<Response>\n  <Say>hi</Sya>\n</Response>');
      expect(p).to.include({ code: 'syntax', line: 2, column: 10 });
      expect(p.message).to.contain('</Sya>').and.contain('<Say>').and.contain('line 2, column 3');
    });

    it('says when an end tag differs from its start tag only in letter case', () => {
      const p = onlyProblem('<Response>\n  <Say>hi</say>\n</Response>');
      expect(p).to.include({ line: 2, column: 10 });
      expect(p.message).to.contain('case');
    });

    it('places an element that is never closed at its start tag', () => {
      const p = onlyProblem('<Response>\n  <Say>hi</Say>');
      expect(p).to.include({ code: 'syntax', line: 1, column: 1 });
      expect(p.message).to.contain('<Response>').and.contain('never closed');
      const nested = problemsOf('<Response>\n  <Gather>\n    <Say>hi</Say>');
      expect(nested.map((q) => `${q.line}:${q.column} ${q.message.slice(0, 8)}`)).to.deep.equal(['1:1 <Respons', '2:3 <Gather>']);
    });

    it('refuses an end tag left over after the root element, where it stands', () => {
      const p = onlyProblem('<Response>\n<Say>hi</Say>\n</Response>\n</Response>');
      expect(p).to.include({ code: 'syntax', line: 4, column: 1 });
      expect(p.message).to.contain('</Response>');
    });

    it('places text before and after the root element at its first character', () => {
      expect(onlyProblem('<Response/>\n\n  trailing')).to.include({ code: 'syntax', line: 3, column: 3 });
      expect(onlyProblem('\n x\n<Response/>')).to.include({ code: 'syntax', line: 2, column: 2 });
      expect(onlyProblem('<Response/>\n  <Response/>')).to.include({ code: 'syntax', line: 2, column: 3 });
    });

    it('does not let xmldom\'s wording through for a broken start tag', () => {
      const p = onlyProblem('<Response>\n  <</Response>');
      expect(p).to.include({ code: 'syntax', line: 2, column: 3 });
      expect(p.message).not.to.contain('element parse error').and.not.contain('Error:');
    });

    it('accepts well-formed documents with comments, CDATA, instructions and ">" in values', () => {
      const doc = parse(
        '<?xml version="1.0"?>\n<!-- </Nope> -->\n<Response><?pi </x>?>' +
          '<Say text="a > b &lt;/c&gt;"/><Say><![CDATA[</Say> <x>]]></Say><Pause \n length = "5" \n/></Response >\n<!-- end -->\n',
      );
      expect(doc.verbs.map((v) => v.kind)).to.deep.equal(['Say', 'Say', 'Pause']);
    });
  });

  describe('declared encoding', () => {
    it('accepts UTF-8 in any letter case, and no declaration at all', () => {
      for (const name of ['UTF-8', 'utf-8', 'Utf-8']) {
        expect(parse(`<?xml version="1.0" encoding="${name}"?>\n<Response/>`).verbs).to.have.length(0);
        expect(parse(`<?xml version='1.0' encoding='${name}' standalone='yes'?><Response/>`).verbs).to.have.length(0);
      }
      expect(parse('<?xml version="1.0"?><Response/>').verbs).to.have.length(0);
    });

    it('refuses any other declared encoding, utf8 included, at the encoding name', () => {
      for (const name of ['UTF-16', 'utf8', 'ISO-8859-1', 'US-ASCII', 'UTF-32']) {
        const p = onlyProblem(`<?xml version="1.0"\n   encoding="${name}"?>\n<Response/>`);
        expect(p, name).to.include({ code: 'encoding', line: 2, column: 4, path: '' });
        expect(p.message, name).to.contain(JSON.stringify(name)).and.contain('UTF-8');
      }
    });

    it('refuses a UTF-16 declaration in a Buffer too', () => {
      const p = onlyProblem(Buffer.from('<?xml version="1.0" encoding="UTF-16"?><Response/>', 'utf8'));
      expect(p).to.include({ code: 'encoding', line: 1, column: 21 });
    });
  });

  describe('"]]>" outside CDATA', () => {
    it('refuses "]]>" in text at its position, and accepts it inside CDATA and attribute values', () => {
      const p = onlyProblem('<Response>\n  <Say>a ]]> b</Say>\n</Response>');
      expect(p).to.include({ code: 'syntax', line: 2, column: 10, path: '' });
      expect(p.message).to.contain(']]>').and.contain('CDATA');
      expect(problemsOf('<Response><Say>]]></Say><Say>x]]>y</Say></Response>').map((q) => q.column)).to.deep.equal([16, 31]);
      expect(parse('<Response><Say><![CDATA[a ]] > b]]></Say><Say text="]]>"/><Say>]]&gt;</Say></Response>').verbs).to.have.length(3);
    });
  });

  it('throws only XmlError with problems for the new checks', () => {
    for (const input of ['<?xml version="1.0" encoding="UTF-16"?>', ']]>', '</a>', '<a></b>', '<a>]]>']) {
      try {
        parseDocument(input);
        expect.fail(`accepted ${input}`);
      } catch (error) {
        expect(error, input).to.be.instanceOf(XmlError);
        if (error instanceof XmlError) expect(error.problems.length, input).to.be.greaterThan(0);
      }
    }
  });
});
