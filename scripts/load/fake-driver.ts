// Calls into the fake ARI (test/support/fake-ari), which runs in a child process
// (fake-ari-child.ts) as Asterisk would: the tool asks it over IPC to place each call and
// gets back what the call's events showed once it is over.
import { fileURLToPath } from 'node:url';
import type { CallObservation } from './call-outcome.js';
import { askChild, spawnChild, stopChild, type Cleanup } from './children.js';
import type { CallDriver, CallPlan } from './driver.js';

export interface FakeOptions {
  readonly callTimeoutMs: number;
}

export type ToFake =
  | { readonly type: 'place'; readonly index: number; readonly from: string; readonly did: string; readonly app: string }
  | { readonly type: 'leftovers' };

export type FromFake =
  | { readonly type: 'ready'; readonly url: string; readonly username: string; readonly password: string }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'ended'; readonly observation: CallObservation }
  | { readonly type: 'leftovers'; readonly channels: number };

/** The caller ID of call `index`: 1555 and seven digits, warm-up calls 1556…. */
function callerIdOf(index: number): string {
  return index < 0 ? `1556${String(-index).padStart(7, '0')}` : `1555${String(index).padStart(7, '0')}`;
}

const CHILD = fileURLToPath(new URL('./fake-ari-child.ts', import.meta.url));

function isType<T extends FromFake['type']>(type: T) {
  return (message: unknown): message is Extract<FromFake, { type: T }> => (message as { type?: unknown } | null)?.type === type;
}

export class FakeDriver implements CallDriver {
  readonly firstAudioMeasure = "the fake ARI's clock: the StasisStart it sends the engine → the first PlaybackStarted on that channel";
  private readonly pending = new Map<number, { readonly placedAt: number; readonly resolve: (observation: CallObservation) => void }>();

  private constructor(
    private readonly child: ReturnType<typeof spawnChild>,
    readonly ari: { readonly url: string; readonly username: string; readonly password: string },
    readonly pid: number,
    private readonly target: { readonly did: string; readonly app: string },
  ) {
    child.on('message', (message: FromFake) => {
      if (message.type !== 'ended') return;
      this.pending.get(message.observation.index)?.resolve(message.observation);
      this.pending.delete(message.observation.index);
    });
    // A fake that dies leaves no call waiting for ever.
    child.once('exit', () => {
      for (const [index, call] of this.pending) call.resolve({ index, from: callerIdOf(index), placedAt: call.placedAt, playbacksHeard: 0, playbacksFailed: 0, notPlaced: 'the fake ARI exited' });
      this.pending.clear();
    });
  }

  /** Starts the fake ARI; the engine connects to `ari` afterwards. */
  static async start(options: FakeOptions & { readonly did: string; readonly app: string }, cleanup: Cleanup): Promise<FakeDriver> {
    const child = spawnChild(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, LOAD_FAKE_OPTIONS: JSON.stringify({ callTimeoutMs: options.callTimeoutMs } satisfies FakeOptions) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    cleanup.add('the fake ARI', () => stopChild(child, 5000));
    const started = await askChild(child, undefined, (m): m is FromFake => isType('ready')(m) || isType('failed')(m), 20_000, 'the fake ARI');
    if (started.type !== 'ready') throw new Error(`the fake ARI did not start: ${started.type === 'failed' ? started.message : started.type}`);
    return new FakeDriver(child, { url: started.url, username: started.username, password: started.password }, child.pid ?? 0, { did: options.did, app: options.app });
  }

  call(plan: CallPlan): Promise<CallObservation> {
    return new Promise((resolve) => {
      this.pending.set(plan.index, { placedAt: Date.now(), resolve });
      this.child.send({ type: 'place', index: plan.index, from: callerIdOf(plan.index), ...this.target } satisfies ToFake);
    });
  }

  async leftovers(): Promise<number | null> {
    const answer = await askChild(this.child, { type: 'leftovers' } satisfies ToFake, isType('leftovers'), 5000, 'the fake ARI').catch(() => undefined);
    return answer?.channels ?? null;
  }

  callerSide(): null {
    return null;
  }

  notes(): readonly string[] {
    return [];
  }

  async close(): Promise<void> {
    // The child is stopped by the cleanup registered at start.
  }
}
