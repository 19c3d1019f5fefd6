// Bridges (res/ari/resource_bridges.c): create, add and remove channels (synchronous
// commands on each channel's queue), destroy.
import { asteriskTime, uuid } from '../asterisk-values.js';
import type { BridgeJson } from '../models.js';
import type { Stasis } from '../stasis.js';
import { AriError } from './ari-error.js';
import type { ChannelModel } from './channels.js';

export class BridgeModel {
  readonly channels: ChannelModel[] = [];
  readonly subscribers = new Set<string>();
  readonly creationtime = new Date();

  constructor(
    readonly id: string,
    readonly name: string,
    readonly type: 'mixing' | 'holding',
  ) {}

  json(): BridgeJson {
    return {
      id: this.id,
      technology: this.type === 'holding' ? 'holding_bridge' : this.channels.length > 2 ? 'softmix' : 'simple_bridge',
      bridge_type: this.type,
      bridge_class: 'stasis',
      creator: 'Stasis',
      name: this.name,
      channels: this.channels.map((c) => c.id),
      creationtime: asteriskTime(this.creationtime),
      video_mode: this.type === 'holding' ? 'none' : 'talker',
    };
  }
}

export class Bridges {
  readonly byId = new Map<string, BridgeModel>();

  constructor(private readonly stasis: Stasis) {}

  createBridge(args: { type?: string; bridgeId?: string; name?: string }): BridgeJson {
    const id = args.bridgeId || uuid();
    if (this.byId.has(id)) throw new AriError(409, 'Conflict', `Bridge with id '${id}' already exists`);
    const types = (args.type ?? '').split(',').map((t) => t.trim());
    const bridge = new BridgeModel(id, args.name ?? '', types.includes('holding') ? 'holding' : 'mixing');
    this.byId.set(id, bridge);
    return bridge.json();
  }

  private findBridge(id: string): BridgeModel {
    const bridge = this.byId.get(id);
    if (!bridge) throw new AriError(404, 'Not found', 'Bridge not found');
    return bridge;
  }

  getBridge(id: string): BridgeJson {
    return this.findBridge(id).json();
  }

  listBridges(): BridgeJson[] {
    return [...this.byId.values()].map((b) => b.json());
  }

  /** find_channel_control() of resource_bridges.c: 400 and 422 instead of 404 and 409. */
  private bridgeChannelControls(ids: readonly string[]): ChannelModel[] {
    const wanted = ids.filter((id) => id !== '');
    if (wanted.length === 0) throw new AriError(400, 'Bad Request', 'Missing parameter channel');
    return wanted.map((id) => {
      const ch = this.stasis.channels.byId.get(id);
      if (!ch) throw new AriError(400, 'Bad Request', 'Channel not found');
      if (!ch.stasisApp) throw new AriError(422, 'Unprocessable Entity', 'Channel not in Stasis application');
      return ch;
    });
  }

  async addToBridge(bridgeId: string, channelIds: readonly string[]): Promise<void> {
    const bridge = this.findBridge(bridgeId);
    const controls = this.bridgeChannelControls(channelIds);
    for (const ch of controls) {
      if (ch.recording || [...ch.queue].some((c) => c.name === 'record')) {
        throw new AriError(409, 'Conflict', `Channel ${ch.id} currently recording`);
      }
      await this.stasis.channels.enqueue(ch, 'add_to_bridge', async () => {
        if (this.byId.get(bridge.id) !== bridge) return -1;
        if (ch.bridge === bridge) return 0;
        if (ch.bridge) this.leaveBridge(ch, ch.bridge);
        bridge.channels.push(ch);
        ch.bridge = bridge;
        if (ch.stasisApp) bridge.subscribers.add(ch.stasisApp);
        this.publishBridgeChannel(ch, bridge, 'ChannelEnteredBridge');
        this.peersJoined(bridge);
        return 0;
      });
    }
  }

  async removeFromBridge(bridgeId: string, channelIds: readonly string[]): Promise<void> {
    const bridge = this.findBridge(bridgeId);
    const controls = this.bridgeChannelControls(channelIds);
    for (const ch of controls) {
      if (ch.bridge !== bridge) throw new AriError(422, 'Unprocessable Entity', 'Channel not in this bridge');
    }
    for (const ch of controls) {
      await this.stasis.channels.enqueue(ch, 'remove_from_bridge', async () => {
        if (ch.bridge === bridge) this.leaveBridge(ch, bridge);
        return 0;
      });
    }
  }

  destroyBridge(bridgeId: string): void {
    const bridge = this.findBridge(bridgeId);
    const subscribers = [...bridge.subscribers];
    for (const ch of [...bridge.channels]) this.leaveBridge(ch, bridge);
    this.byId.delete(bridge.id);
    if (subscribers.length > 0) this.stasis.events.publish(subscribers, 'BridgeDestroyed', { bridge: bridge.json() });
    for (const app of subscribers) this.stasis.applications.forgetAppIfFinished(app);
  }

  leaveBridge(ch: ChannelModel, bridge: BridgeModel): void {
    const index = bridge.channels.indexOf(ch);
    if (index >= 0) bridge.channels.splice(index, 1);
    ch.bridge = undefined;
    // The application stays subscribed to the bridge (BridgeDestroyed reaches it) until the bridge goes.
    this.publishBridgeChannel(ch, bridge, 'ChannelLeftBridge');
    const [alone] = bridge.channels;
    if (bridge.channels.length === 1 && alone) this.stasis.events.publishChannel(alone, 'ChannelVarset', { variable: 'BRIDGEPEER', value: '' });
  }

  /**
   * Two channels now share the bridge: each gets BRIDGEPEER set to the other's name, and
   * the one that was waiting gets its connected line updated (main/bridge.c
   * set_bridge_peer_vars; seen on Asterisk 22.10.1 for a <Dial> bridge of Local channels:
   * ChannelVarset BRIDGEPEER, ChannelConnectedLine, and BRIDGEPEER set again, empty, when
   * the peer leaves).
   */
  private peersJoined(bridge: BridgeModel): void {
    const [first, second] = bridge.channels;
    if (bridge.channels.length !== 2 || !first || !second) return;
    this.stasis.events.publishChannel(first, 'ChannelVarset', { variable: 'BRIDGEPEER', value: second.name });
    this.stasis.events.publishChannel(second, 'ChannelVarset', { variable: 'BRIDGEPEER', value: first.name });
    this.stasis.events.publishChannel(first, 'ChannelConnectedLine');
  }

  private publishBridgeChannel(ch: ChannelModel, bridge: BridgeModel, type: 'ChannelEnteredBridge' | 'ChannelLeftBridge'): void {
    if (ch.killed) return;
    this.stasis.events.publish(this.stasis.events.channelTargets(ch, bridge.subscribers), type, { bridge: bridge.json(), channel: ch.json() });
  }

  /** Asterisk restarted: no bridge survives. */
  wipe(): void {
    this.byId.clear();
  }
}
