// The Asterisk side of the fake: channels in Stasis, their command queues, playbacks,
// recordings, bridges, Stasis applications and the events they send. No HTTP here; the
// REST layer (rest.ts) and the control API (fake-ari.ts) call into this.
//
// Behaviour is modelled on Asterisk 22 as its documentation and sources describe it
// (res/ari/resource_channels.c, res/res_stasis_playback.c, res/res_stasis_recording.c,
// res/ari/ari_websockets.c, main/channel.c). Points worth knowing:
//
// * Every channel in Stasis has ONE command queue, run in order, like the stasis control
//   queue on the channel's thread: answer, play, record, add/remove bridge, continue.
//   Answer and bridge add/remove are synchronous in Asterisk (the HTTP answer waits for
//   its turn); play and record answer 201 at once and run when their turn comes. A play
//   sent while another playback runs is queued behind it.
// * Events are published in order and delivered on a later turn of the event loop, as
//   Stasis messages are, so an HTTP response usually leaves before the event it caused
//   (answer → 204, then ChannelStateChange). On a real Asterisk both travel separately
//   and may arrive in either order.
// * Hang-up (the caller's, or DELETE /channels/{id}): ChannelHangupRequest at once; the
//   running operation ends (a playback finishes with PlaybackFinished state "failed",
//   see playMedia in model/playbacks.ts); queued commands are dropped without events;
//   ChannelLeftBridge if bridged; StasisEnd; ChannelDestroyed {cause, cause_txt}. From
//   then on the channel is unknown: every operation answers 404 "Channel not found".
//
// The model is split by resource, as Asterisk's res_ari_* modules are, under model/:
// channels.ts (channels, their command queue, hang-up, the caller's DTMF), outbound.ts
// (originate, create, dial and the far end), playbacks.ts, recordings.ts (live and stored
// recordings and their files), bridges.ts, applications.ts (the Stasis applications and
// their WebSockets), events.ts (publishing and delivery). This façade owns what they
// share (the configuration, the timers, the start time) and wires them together: each
// reaches the others through it.
import { Applications } from './model/applications.js';
import { Bridges } from './model/bridges.js';
import { Channels } from './model/channels.js';
import { Events } from './model/events.js';
import { Outbound, type OutboundCall, type OutboundPlan } from './model/outbound.js';
import { Playbacks } from './model/playbacks.js';
import { Recordings } from './model/recordings.js';
import { Timers } from './waiter.js';

export interface StasisConfig {
  asteriskId: string;
  /** How long a media URI plays, in ms (Infinity: until stopped). */
  playbackMs: (media: string) => number;
  /** Whether a media URI can be played (false: PlaybackFinished with state "failed"). */
  mediaExists: (media: string) => boolean | Promise<boolean>;
  dtmfDurationMs: number;
  /** Wall-clock ms per Asterisk second (recording limits, originate timeout). */
  secondMs: number;
  /** ari.conf `channelvars`: variables shown in every Channel JSON under `channelvars`. */
  channelVars: readonly string[];
  outbound: (call: OutboundCall) => OutboundPlan;
  language: string;
  context: string;
}

export class Stasis {
  readonly timers = new Timers();
  startedAt = new Date();
  readonly events = new Events(this);
  readonly applications = new Applications(this);
  readonly channels = new Channels(this);
  readonly outbound = new Outbound(this);
  readonly playbacks = new Playbacks(this);
  readonly recordings = new Recordings(this);
  readonly bridges = new Bridges(this);

  constructor(readonly config: StasisConfig) {}

  /** Asterisk restarts: every call is gone without a word, as are apps, bridges, playbacks. */
  wipe(): void {
    this.channels.wipe();
    this.playbacks.wipe();
    this.recordings.wipe();
    this.bridges.wipe();
    this.applications.wipe();
    this.events.wipe();
    this.timers.clear();
    this.startedAt = new Date();
  }
}
