// HandBack: Asterisk's answers are held while requests wait for a connection, and handed
// back in order once none waits, or after the longest hold.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { HandBack } from '../../../lib/ari/hand-back.js';

describe('ARI: handing Asterisk\'s answers back (HandBack)', () => {
  it('hands an answer back at once when no request waits for a connection', () => {
    const delivered: string[] = [];
    const handBack = new HandBack(() => 0, 1000);
    handBack.add(() => delivered.push('a'));
    expect(delivered).to.deep.equal(['a']);
  });

  it('holds answers while requests wait, and hands them all back in order with the first one after that', () => {
    let waiting = 2;
    const delivered: string[] = [];
    const handBack = new HandBack(() => waiting, 1000);
    handBack.add(() => delivered.push('a'));
    waiting = 1;
    handBack.add(() => delivered.push('b'));
    expect(delivered).to.deep.equal([]);
    waiting = 0;
    handBack.add(() => delivered.push('c'));
    expect(delivered).to.deep.equal(['a', 'b', 'c']);
  });

  it('holds none longer than its limit, however long requests go on waiting', async () => {
    const delivered: string[] = [];
    const handBack = new HandBack(() => 5, 30);
    handBack.add(() => delivered.push('a'));
    await sleep(10);
    handBack.add(() => delivered.push('b'));
    expect(delivered).to.deep.equal([]);
    await sleep(40);
    expect(delivered).to.deep.equal(['a', 'b']);
    // The limit counts from the first answer held since.
    handBack.add(() => delivered.push('c'));
    expect(delivered).to.deep.equal(['a', 'b']);
    await sleep(40);
    expect(delivered).to.deep.equal(['a', 'b', 'c']);
  });

  it('hands everything back on flush', () => {
    const delivered: string[] = [];
    const handBack = new HandBack(() => 1, 1000);
    handBack.add(() => delivered.push('a'));
    handBack.flush();
    expect(delivered).to.deep.equal(['a']);
  });
});
