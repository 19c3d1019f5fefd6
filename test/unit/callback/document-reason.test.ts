// Issue 9, item 2: the reason a fetched document was refused is spoken by <Error say="true">
// and carried in events: the parser library's own wording never reaches it.
import { expect } from 'chai';
import { parseFetchedDocument } from '../../../lib/callback/document.js';

const reasonFor = (body: string): { reason: string; line?: number; column?: number } => {
  const parsed = parseFetchedDocument(body, 256 * 1024);
  if (!('failure' in parsed)) expect.fail('the document was accepted');
  expect(parsed.failure.code).to.equal('parse');
  return parsed.failure;
};

describe('callback: the reason for a document that cannot be parsed', () => {
  it('says in plain words that a broken document is not well-formed XML, with line and column', () => {
    for (const body of [
      '<Response>\n  <Say>hi\n  <</Response>',
      '<Response>\n  <Say a<b="c">x</Say></Response>',
      '<Response>\n  <Pause length="1" length="2"/></Response>',
      '<Response></R\nesponse>',
    ]) {
      const failure = reasonFor(body);
      expect(failure.reason, body).to.match(
        /^the answer was not a valid document: line \d+, column \d+: it is not well-formed XML$/,
      );
      expect(failure.reason, body).to.contain(`line ${failure.line}, column ${failure.column}`);
    }
    expect(reasonFor('<Response>\n  <Say>hi\n  <</Response>')).to.include({ line: 3, column: 3 });
  });

  it('names a declared encoding other than UTF-8 in words', () => {
    const failure = reasonFor('<?xml version="1.0" encoding="UTF-16"?>\n<Response/>');
    expect(failure.reason).to.equal(
      'the answer was not a valid document: line 1, column 21: it declares an encoding other than UTF-8',
    );
  });

  it('keeps the parser\'s own explanation of a valid XML document that is not Opentact XML', () => {
    const failure = reasonFor('<Response>\n  <Say>hello</Say>\n  <Sya>oops</Sya>\n</Response>');
    expect(failure.reason).to.equal(
      'the answer was not a valid document: line 3, column 3: <Sya> is not an element of Opentact XML',
    );
  });

  it('is one line', () => {
    for (const body of ['<Response></R\nesponse>', '<Response>\n<Say a="1"\n a="2"/></Response>', '<Response/>\nx\ny', '<Response><Nope\n/></Response>']) {
      expect(reasonFor(body).reason, body).not.to.match(/[\n\r]/);
    }
  });
});
