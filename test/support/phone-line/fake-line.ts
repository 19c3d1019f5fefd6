// The phone line on the fake ARI: its control interface places the call, presses keys and
// hangs up; the events it sends to the engine's application tell what the caller got.
import { FakeAri, type AriEvent, type FakeAriOptions, type OutboundCall, type OutboundPlan } from '../fake-ari/index.js';
import { CallObserver, phoneCall, type Leftovers, type PhoneCall, type PhoneLine } from './phone-line.js';

export class FakePhoneLine implements PhoneLine {
  readonly kind = 'fake';
  private readonly observers = new Set<CallObserver>();
  private readonly stopListening: (() => void)[];

  private constructor(readonly fake: FakeAri) {
    const feed = (event: AriEvent): void => {
      for (const observer of this.observers) observer.feed(event);
    };
    this.stopListening = [
      fake.onEvent(feed),
      // The caller learns of the end whatever the engine's application is sent.
      fake.onChannelDestroyed((channel, cause) => feed({ type: 'ChannelDestroyed', timestamp: '', application: '', asterisk_id: '', channel, cause })),
    ];
  }

  static async start(options: FakeAriOptions = {}): Promise<FakePhoneLine> {
    return new FakePhoneLine(await FakeAri.start({ fetchHttpMedia: true, playAudioLength: true, outbound: dialTargetPlan, ...options }));
  }

  get ari(): { url: string; username: string; password: string } {
    return { url: this.fake.url, username: this.fake.username, password: this.fake.password };
  }

  async call(options: { did: string; from?: string; app: string }): Promise<PhoneCall> {
    const channelId = `fake-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const observer = new CallObserver(channelId);
    this.observers.add(observer);
    // Events of the call reach the observer from StasisStart on, as they reach the engine.
    await this.fake.placeCall({ from: options.from ?? '15550001111', did: options.did, app: options.app, channelId });
    const fake = this.fake;
    return phoneCall(observer, {
      // Paced as the Asterisk line presses them (between=100, duration=100).
      press: (digits) => fake.pressDigits(channelId, digits, { gapMs: 100, durationMs: 100 }),
      hangUp: () => (fake.channel(channelId)?.destroyed ? Promise.resolve() : fake.callerHangup(channelId)),
      talk: async (on) => fake.setCallerTalking(channelId, on),
    });
  }

  async leftovers(): Promise<Leftovers> {
    return {
      channels: this.fake.channels().filter((c) => !c.destroyed).map((c) => c.id),
      bridges: this.fake.bridges().map((b) => b.id),
    };
  }

  async close(): Promise<void> {
    for (const stop of this.stopListening) stop();
    this.observers.clear();
    await this.fake.close();
  }
}

/**
 * The `<Dial>` targets of the real Asterisk's `opentact-targets` context
 * (test/support/asterisk/launcher.ts), for `Local/<number>@opentact-targets`: 2001 answers,
 * 2002 is busy, 2003 congested, 2004 never answers; 3SMMM answers after S.MMM seconds;
 * 4SMMM answers and hangs up after S.MMM seconds. Any other endpoint answers at once.
 */
export function dialTargetPlan(call: OutboundCall): OutboundPlan {
  const number = /^Local\/(\d+)@opentact-targets$/.exec(call.endpoint)?.[1] ?? '';
  const ms = (digits: string): number => Number(digits.slice(1, 2)) * 1000 + Number(digits.slice(2));
  if (number === '2002') return { outcome: 'busy', afterMs: 1 };
  if (number === '2003') return { outcome: 'congestion', afterMs: 1 };
  if (number === '2004') return { outcome: 'wait' };
  if (/^3\d{4}$/.test(number)) return { outcome: 'answer', afterMs: ms(number) };
  if (/^4\d{4}$/.test(number)) return { outcome: 'answer', afterMs: 1, hangupAfterMs: ms(number) };
  return { outcome: 'answer', afterMs: 1 };
}
