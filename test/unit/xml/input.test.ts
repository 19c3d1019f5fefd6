import { expect } from 'chai';
import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  XmlError,
  parseDocument,
  type XmlProblemCode,
} from '../../../lib/xml/index.js';
import { onlyProblem, parse, problemsOf } from './helpers.js';

const padded = (bytes: number): string => {
  const open = '<Response>';
  const close = '</Response>';
  return `${open}${' '.repeat(bytes - open.length - close.length)}${close}`;
};

describe('xml: input handling', () => {
  describe('size limit', () => {
    it('defaults to 256 KiB', () => {
      expect(DEFAULT_MAX_DOCUMENT_BYTES).to.equal(262144);
    });

    it('accepts a document of exactly the limit and rejects one byte more', () => {
      expect(parse(padded(262144)).size).to.equal(262144);
      expect(onlyProblem(padded(262145))).to.deep.equal({
        code: 'too_large',
        message: 'the document is 262145 bytes, over the limit of 262144 bytes',
        line: 1,
        column: 1,
        path: '',
      });
    });

    it('honours maxBytes and counts bytes, not characters', () => {
      const doc = '<Response><Say>ééééé</Say></Response>'; // 37 characters, 42 bytes
      expect(parse(doc, { maxBytes: 42 }).size).to.equal(42);
      expect(onlyProblem(doc, { maxBytes: 41 }).code).to.equal('too_large');
      expect(onlyProblem(Buffer.from(doc), { maxBytes: 41 }).code).to.equal('too_large');
    });

    it('checks the size before anything else', () => {
      const hostile = `<!DOCTYPE x [<!ENTITY a "b">]>${padded(1000)}`;
      expect(onlyProblem(hostile, { maxBytes: 100 }).code).to.equal('too_large');
    });

    it('rejects a nonsensical limit as a programming error', () => {
      expect(() => parseDocument('<Response/>', { maxBytes: -1 })).to.throw(RangeError);
      expect(() => parseDocument('<Response/>', { maxBytes: Number.NaN })).to.throw(RangeError);
    });
  });

  describe('encodings and blank input', () => {
    it('accepts a Buffer and reports its size', () => {
      const buffer = Buffer.from('<Response>\n  <Say>Grüße</Say>\n</Response>', 'utf8');
      const doc = parse(buffer);
      expect(doc.size).to.equal(buffer.length);
      expect(doc.verbs[0]).to.deep.include({ kind: 'Say', text: 'Grüße', position: { line: 2, column: 3 } });
    });

    it('accepts a UTF-8 byte order mark, in a Buffer or a string, without shifting columns', () => {
      const body = '<?xml version="1.0"?><Response><Hangup/></Response>';
      for (const input of [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]), `\uFEFF${body}`]) {
        const doc = parse(input);
        expect(doc.verbs[0]?.position).to.deep.equal({ line: 1, column: 32 });
      }
      expect(parse(`\uFEFF${body}`).size).to.equal(body.length + 3);
    });

    it('rejects empty and blank documents as empty', () => {
      for (const input of ['', '   \n\t\r\n ', '\uFEFF', Buffer.alloc(0), Buffer.from([0xef, 0xbb, 0xbf, 0x20])]) {
        expect(onlyProblem(input)).to.deep.equal({
          code: 'empty',
          message: 'the document is empty',
          line: 1,
          column: 1,
          path: '',
        });
      }
    });

    it('rejects bytes that are not UTF-8, where they stand', () => {
      const bytes = Buffer.concat([Buffer.from('<Response>\n  <Say>caf'), Buffer.from([0xe9]), Buffer.from('</Say></Response>')]);
      const p = onlyProblem(bytes);
      expect(p).to.include({ code: 'syntax', line: 2, column: 11 });
      expect(p.message).to.contain('UTF-8').and.contain('0xE9');
      expect(onlyProblem(Buffer.from([0xff, 0xfe, 0x3c, 0x00])).code).to.equal('syntax'); // UTF-16
      expect(onlyProblem(Buffer.from([0x3c, 0xed, 0xa0, 0x80])).code).to.equal('syntax'); // encoded surrogate
      expect(onlyProblem(Buffer.from([0x3c, 0xc0, 0xbc])).code).to.equal('syntax'); // overlong '<'
    });

    it('rejects characters XML does not allow', () => {
      expect(onlyProblem('<Response>\n  <Say>a\u0000b</Say>\n</Response>')).to.deep.equal({
        code: 'syntax',
        message: 'character U+0000 is not allowed in XML',
        line: 2,
        column: 9,
        path: '',
      });
      expect(onlyProblem('<Response><Say>\uD800</Say></Response>').message).to.contain('U+D800');
      expect(onlyProblem('<Response><Say>\u001B[31m</Say></Response>').message).to.contain('U+001B');
      expect(parse('<Response><Say>😀 ok</Say></Response>').verbs[0]).to.deep.include({ text: '😀 ok' });
    });
  });

  describe('not XML, or not well-formed', () => {
    it('reports JSON and plain text as not XML', () => {
      for (const input of ['{"verbs": [{"say": "hi"}]}', 'hello world', '42']) {
        const p = onlyProblem(input);
        expect(p.code, input).to.equal('syntax');
        expect(p.message).to.contain('no root element');
      }
    });

    it('reports well-formed HTML as a wrong root and broken HTML as a syntax error', () => {
      expect(onlyProblem('<html><body><p>Hello</p></body></html>').code).to.equal('root');
      const p = problemsOf('<html>\n<body>\n<p>Hello<br></body>\n</html>')[0];
      expect(p).to.include({ code: 'syntax', line: 3 });
      expect(p?.message).to.contain('br');
    });

    it('names the position of mismatched and unclosed tags', () => {
      const mismatch = problemsOf('<Response>\n  <Say>hi</Sya>\n</Response>')[0];
      expect(mismatch).to.include({ code: 'syntax', line: 2, path: '' });
      expect(mismatch?.message).to.contain('</Sya>').and.contain('<Say>');
      expect(problemsOf('<Response>\n  <Say>hi</Say>')[0]?.code).to.equal('syntax');
    });

    it('rejects duplicate and unquoted attributes, a second root and text after the root', () => {
      for (const input of [
        '<Response><Pause length="1" length="2"/></Response>',
        '<Response><Pause length=1/></Response>',
        '<Response/><Response/>',
        '<Response/>trailing',
        '  <?xml version="1.0"?><Response/>',
        '<Response><x:Say/></Response>',
      ]) {
        const problems = problemsOf(input);
        expect(problems.every((p) => p.code === 'syntax'), input).to.equal(true);
      }
    });

    it('checks references: predefined entities and character references only', () => {
      const problems = problemsOf(
        ['<Response>', '  <Say>Tom & Jerry</Say>', '  <Say text="&nbsp;"/>', '  <Say>&#0;&#x110000;</Say>', '</Response>'].join(
          '\n',
        ),
      );
      expect(problems.map((p) => `${p.code} ${p.line}:${p.column}`)).to.deep.equal([
        'syntax 2:12',
        'syntax 3:14',
        'syntax 4:8',
        'syntax 4:12',
      ]);
      expect(problems[0]?.message).to.contain('&amp;');
      expect(problems[1]?.message).to.contain('&nbsp;');
      const ok = parse('<Response><Say><![CDATA[Tom & Jerry]]><!-- & --> &quot;&apos;&gt;</Say></Response>');
      expect(ok.verbs[0]).to.deep.include({ text: 'Tom & Jerry "\'>' });
    });
  });

  describe('DTDs and entities', () => {
    it('rejects a DOCTYPE where it stands, and parses nothing', () => {
      expect(onlyProblem('<?xml version="1.0"?>\n<!DOCTYPE Response>\n<Response><Bogus/></Response>')).to.deep.equal({
        code: 'doctype',
        message: '<!DOCTYPE> declarations are not allowed: documents may not have a DTD or declare entities',
        line: 2,
        column: 1,
        path: '',
      });
    });

    it('rejects billion laughs with doctype problems only', () => {
      const lines = ['<?xml version="1.0"?>', '<!DOCTYPE lolz [', ' <!ENTITY lol "lol">'];
      for (let i = 1; i <= 9; i++) {
        lines.push(` <!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
      }
      lines.push(']>', '<Response><Say>&lol9;</Say></Response>');
      const problems = problemsOf(lines.join('\n'));
      expect(problems).to.have.length(11);
      expect(problems.every((p) => p.code === 'doctype')).to.equal(true);
      expect(problems[0]).to.include({ line: 2, column: 1 });
      expect(problems[1]).to.include({ line: 3, column: 2 });
      expect(problems[1]?.message).to.contain('<!ENTITY>');
    });

    it('rejects external entities without reading them', () => {
      const doc =
        '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<Response><Say>&xxe;</Say></Response>';
      const problems = problemsOf(Buffer.from(doc));
      expect(problems.map((p) => `${p.code} ${p.line}:${p.column}`)).to.deep.equal(['doctype 1:1', 'doctype 1:14']);
      expect(JSON.stringify(problems)).not.to.contain('root:');
    });

    it('rejects every spelling and place of a declaration', () => {
      const cases = [
        '<!doctype Response SYSTEM "http://evil.example/x.dtd"><Response/>',
        '<!ENTITY x "y"><Response/>',
        '<Response/>\n<!DOCTYPE Response>',
        '<Response><!-- <!DOCTYPE x> --></Response>',
        '<Response><Say><![CDATA[<!ENTITY x "y">]]></Say></Response>',
        '<!DOCTYPE Response [<!ENTITY % p SYSTEM "http://evil.example/p"> %p;]><Response/>',
        '\uFEFF<!DOCTYPE Response><Response/>',
      ];
      for (const input of cases) {
        const problems = problemsOf(input);
        expect(problems.length, input).to.be.greaterThan(0);
        expect(problems.every((p) => p.code === 'doctype'), input).to.equal(true);
      }
    });

    it('treats a reference to an undeclared entity as a syntax error', () => {
      const p = onlyProblem('<Response>\n  <Say>&xxe;</Say>\n</Response>');
      expect(p).to.include({ code: 'syntax', line: 2, column: 8 });
      expect(p.message).to.contain('&xxe;');
    });
  });

  describe('nesting depth', () => {
    const nested = (levels: number): string =>
      `<Response>${'<Call field="to" value="1">'.repeat(levels - 1)}${'</Call>'.repeat(levels - 1)}</Response>`;

    it('reads 32 levels', () => {
      let verbs = parse(nested(32)).verbs;
      let depth = 1;
      while (verbs[0]?.kind === 'Call') {
        verbs = verbs[0].verbs;
        depth++;
      }
      expect(depth).to.equal(32);
    });

    it('reports one too_deep problem at the 33rd level', () => {
      const p = onlyProblem(nested(34));
      expect(p.code).to.equal('too_deep');
      expect(p.path.split('/')).to.have.length(33);
      expect(p.path).to.match(/^Response(\/Call\[0\]){32}$/);
      expect(p).to.include({ line: 1, column: 11 + 27 * 31 });
    });

    it('survives 100000 levels', function () {
      this.timeout(60_000);
      const levels = 100_000;
      const doc = `<Response>${'<a>'.repeat(levels)}${'</a>'.repeat(levels)}</Response>`;
      const p = problemsOf(doc, { maxBytes: 1_000_000 });
      expect(p.map((x) => x.code)).to.deep.equal(['unknown_element']);
      const calls = `<Response>${'<Call field="to" value="">'.repeat(levels)}${'</Call>'.repeat(levels)}</Response>`;
      expect(problemsOf(calls, { maxBytes: 10_000_000 }).map((x) => x.code)).to.deep.equal(['too_deep']);
      const unclosed = problemsOf(`<Response>${'<Call>'.repeat(levels)}`, { maxBytes: 1_000_000 });
      expect(unclosed[0]?.code).to.equal('syntax');
      expect(unclosed[0]?.message.length).to.be.lessThan(300);
    });
  });

  it('stops collecting after 1000 problems', () => {
    const problems = problemsOf(`<Response>${'<Nope/>'.repeat(5000)}</Response>`);
    expect(problems).to.have.length(1000);
    expect(problems[999]?.path).to.equal('Response/Nope[999]');
    expect(problemsOf(`<Response>${'<'.repeat(100_000)}</Response>`)).to.have.length(1000);
  });

  it('collects every problem when asked to (maxProblems), and refuses a limit below 1', () => {
    const problems = problemsOf(`<Response>${'<Nope/>'.repeat(5000)}</Response>`, { maxProblems: Infinity });
    expect(problems).to.have.length(5000);
    expect(problems[4999]?.path).to.equal('Response/Nope[4999]');
    expect(problemsOf(`<Response>${'<Nope/>'.repeat(50)}</Response>`, { maxProblems: 10 })).to.have.length(10);
    expect(() => parseDocument('<Response/>', { maxProblems: 0 })).to.throw(RangeError);
  });

  describe('fuzzing', () => {
    const CODES: readonly XmlProblemCode[] = [
      'empty',
      'too_large',
      'syntax',
      'encoding',
      'doctype',
      'root',
      'unknown_element',
      'unexpected_element',
      'unknown_attribute',
      'missing_attribute',
      'invalid_value',
      'out_of_range',
      'unexpected_text',
      'too_deep',
    ];
    const SAMPLE = `<?xml version="1.0"?>
<Response>
  <Answer delay="10"/>
  <Say lang="en-US" loop="2">Hello &amp; welcome</Say>
  <Play>http://a.example/x.wav</Play><Error say="true"><Hangup/></Error>
  <Gather numDigits="2" url="http://a.example/g"><Say>Enter</Say><DTMF value="1"><Pause length="5"/></DTMF><Default/><Error/></Gather>
  <Dial timeout="2000"><To>+1 555 123 4567</To><To>sip:a@b</To></Dial>
  <Record tag="r"><![CDATA[ ]]><!-- c --></Record>
  <Call field="from" value=""><Callback url="https://a.example" method="get"/></Call>
  <Curl url="http://a.example"/>
</Response>`;
    const PIECES = ['<', '>', '/', '"', "'", '=', '&', ';', '#', '!', '-', '[', ']', '?', ' ', '\n', 'a', 'Say', '<!DOCTYPE', '&#', '\u0000', 'é', '\uD83D'];

    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(items: readonly T[]): T => items[random(items.length)] as T;

    const check = (input: string | Buffer): void => {
      try {
        const doc = parseDocument(input);
        expect(doc.kind).to.equal('Response');
      } catch (error) {
        if (!(error instanceof XmlError)) throw error;
        expect(error.problems.length).to.be.greaterThan(0);
        for (const p of error.problems) {
          expect(CODES).to.include(p.code);
          expect(p.line).to.be.at.least(1);
          expect(p.column).to.be.at.least(1);
          expect(p.message).to.be.a('string').and.not.equal('');
        }
      }
    };

    it('starts from a valid document', () => {
      expect(parse(SAMPLE).verbs).to.have.length(8);
    });

    it('throws nothing but XmlError for mutated documents', () => {
      for (let round = 0; round < 1500; round++) {
        let text = SAMPLE;
        const edits = 1 + random(6);
        for (let e = 0; e < edits; e++) {
          const at = random(text.length + 1);
          const kind = random(3);
          if (kind === 0) text = text.slice(0, at) + pick(PIECES) + text.slice(at);
          else if (kind === 1) text = text.slice(0, at) + text.slice(at + 1 + random(8));
          else text = text.slice(0, at) + pick(PIECES) + text.slice(at + 1);
        }
        check(text);
      }
    });

    it('throws nothing but XmlError for random bytes and strings', () => {
      for (let round = 0; round < 500; round++) {
        const bytes = Buffer.alloc(random(200));
        for (let i = 0; i < bytes.length; i++) bytes[i] = random(256);
        check(bytes);
        const text = Array.from({ length: random(60) }, () => pick(PIECES)).join('');
        check(text);
        check(`<Response>${text}</Response>`);
      }
    });
  });
});
