// The fake ARI of a load run, in a process of its own as Asterisk would be (so that its
// CPU is its own and the tool's event loop does not slow it): started by fake-driver.ts,
// it places the calls the tool asks for over IPC and reports each one once it is over.
// It fetches the engine's media as Asterisk does and plays a WAV as long as its audio.
import { FakeAri } from '../../test/support/fake-ari/index.js';
import { CallWatch, engineChannelOf } from './call-watch.js';
import { within } from './children.js';
import type { FakeOptions, FromFake, ToFake } from './fake-driver.js';

/** How long after hanging up a timed-out call its end is awaited. */
const HANGUP_WAIT_MS = 5000;
/** Asterisk's dialplan (extensions.conf, opentact-after) hangs up with 34 when Stasis() fails. */
const STASIS_FAILED_CAUSE = 34;

function send(message: FromFake): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env['LOAD_FAKE_OPTIONS'] ?? '{}') as FakeOptions;
  const fake = await FakeAri.start({ fetchHttpMedia: true, playAudioLength: true });
  const watches = new Map<string, CallWatch>();
  fake.onEvent((event) => {
    const channel = engineChannelOf(event);
    if (channel !== undefined) watches.get(channel)?.feed(event, Date.now());
  });
  fake.onChannelDestroyed((channel, cause) => watches.get(channel.id)?.feed({ type: 'ChannelDestroyed', channel: { id: channel.id }, cause }, Date.now()));

  const place = async (message: Extract<ToFake, { type: 'place' }>): Promise<void> => {
    const id = `load-${message.index}`;
    const watch = new CallWatch(message.index, message.from, Date.now(), id, 'StasisStart');
    watches.set(id, watch);
    try {
      await fake.placeCall({ from: message.from, did: message.did, app: message.app, channelId: id });
    } catch {
      watch.feed({ type: 'ChannelDestroyed', channel: { id }, cause: STASIS_FAILED_CAUSE }, Date.now());
    }
    if ((await within(watch.ended, Math.max(0, options.callTimeoutMs - (Date.now() - watch.placedAt)))) === 'timeout') {
      watch.timedOut();
      await fake.callerHangup(id).catch(() => undefined);
      await within(watch.ended, HANGUP_WAIT_MS);
    }
    watches.delete(id);
    send({ type: 'ended', observation: watch.observation() });
  };

  process.on('message', (message: ToFake) => {
    if (message.type === 'place') void place(message);
    else if (message.type === 'leftovers') send({ type: 'leftovers', channels: fake.channels().length });
  });
  // The tool going away (its IPC channel closing) ends the fake.
  process.once('disconnect', () => {
    void within(fake.close(), 5000).finally(() => process.exit(0));
  });
  send({ type: 'ready', url: fake.url, username: fake.username, password: fake.password });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
