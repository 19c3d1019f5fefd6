// The phone line on the fake ARI: its control interface places the call, presses keys and
// hangs up; the events it sends to the engine's application tell what the caller got.
import { FakeAri, type AriEvent, type FakeAriOptions } from '../fake-ari/index.js';
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
    return new FakePhoneLine(await FakeAri.start({ fetchHttpMedia: true, playAudioLength: true, ...options }));
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
      press: (digits) => fake.pressDigits(channelId, digits),
      hangUp: () => (fake.channel(channelId)?.destroyed ? Promise.resolve() : fake.callerHangup(channelId)),
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
