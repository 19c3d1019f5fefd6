// The channels in our Stasis application, as Asterisk lists them. `GET /applications/{app}`
// says it directly, but Asterisk 22.10.1 can stop answering it for good (asterisk/asterisk#2170,
// see ../shared/asterisk/README.md): then `GET /channels`, keeping the channels whose
// dialplan application is `Stasis(<app>,…)`. Each request is bounded by the REST time-out.
import type { Logger } from '../flow/ports.js';
import type { ChannelSnapshot } from './events.js';
import type { AriRest } from './rest.js';

/** Whether a channel snapshot shows the channel in the Stasis application `app`. */
export function inApplication(channel: ChannelSnapshot, app: string): boolean {
  const { appName, appData } = channel.dialplan ?? {};
  if (appName?.toLowerCase() !== 'stasis' || appData === undefined) return false;
  return appData.split(',')[0]?.trim() === app;
}

/** @throws when neither listing answers. */
export async function channelsInApplication(app: string, rest: AriRest, log: Logger): Promise<readonly string[]> {
  try {
    return await rest.applicationChannels(app);
  } catch (error) {
    log.warn({ err: error }, 'cannot list the application’s channels; listing every channel instead');
  }
  const channels = await rest.listChannels();
  return channels.filter((channel) => inApplication(channel, app)).map((channel) => channel.id);
}
