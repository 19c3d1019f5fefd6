// A faithful fake of Asterisk 22's ARI for the tests: the HTTP REST API, the swagger
// api-docs ari-client loads itself from, and the /ari/events WebSocket, on 127.0.0.1.
// The real ari-client talks to it; the test drives the caller's side (placeCall,
// pressDigits, callerHangup) and the faults (failNext, delayNext, dropWebSockets, stop,
// restart) through plain methods.
//
//   const fake = await FakeAri.start();
//   const ari = await client.connect(fake.url, fake.username, fake.password);
//   await ari.start('opentact');
//   const call = await fake.placeCall({ from: '15551230000', did: '15551234567' });
//   ...
//   await fake.close();
//
// What the fake does and where each behaviour comes from is documented next to the code.
// The Asterisk model is split by resource, as Asterisk's res_ari_* modules are:
// model/channels.ts (channels, their command queue, hang-up, the caller's DTMF),
// model/outbound.ts (originate, create, dial), model/playbacks.ts, model/recordings.ts
// (live and stored recordings, their files), model/bridges.ts, model/applications.ts,
// model/events.ts (publishing and delivery), wired by stasis.ts (configuration, timers,
// restart). rest.ts (routes and error answers), api-docs.ts (the swagger listings),
// fake-ari.ts (server, auth, faults).
export {
  FakeAri,
  FakeChannel,
  type ArrivedAriRequest,
  type FakeAriOptions,
  type MediaFetch,
  type PlaceCallOptions,
  type RecordedAriRequest,
  type RequestMatch,
} from './fake-ari.js';
export type { ChannelView } from './model/channels.js';
export type { OutboundCall, OutboundPlan } from './model/outbound.js';
export type {
  AriEvent,
  BridgeJson,
  ChannelJson,
  ChannelState,
  LiveRecordingJson,
  PlaybackJson,
  StoredRecordingJson,
} from './models.js';
export { CAUSE, causeText } from './asterisk-values.js';
