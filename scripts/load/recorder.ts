// The calls of a run as they end: each observation with its classification, and the
// running counts the progress line shows.
import { classify, type CallObservation, type Classified } from './call-outcome.js';
import { percentile } from './stats.js';

export interface RecordedCall {
  readonly observation: CallObservation;
  readonly classified: Classified;
}

export class Recorder {
  readonly calls: RecordedCall[] = [];
  placed = 0;
  completed = 0;
  failed = 0;
  refused = 0;
  private recentFirstAudioMs: number[] = [];

  add(observation: CallObservation): void {
    const classified = classify(observation);
    this.calls.push({ observation, classified });
    this[classified.outcome] += 1;
    const ms = firstAudioMs(observation);
    if (ms !== undefined) this.recentFirstAudioMs.push(ms);
  }

  get ended(): number {
    return this.calls.length;
  }

  /** p99 of StasisStart → first audio over the calls ended since the last call of this. */
  takeRecentFirstAudioP99(): number | null {
    const recent = this.recentFirstAudioMs.sort((a, b) => a - b);
    this.recentFirstAudioMs = [];
    return percentile(recent, 99);
  }
}

export function firstAudioMs(call: CallObservation): number | undefined {
  return call.stasisAt !== undefined && call.firstAudioAt !== undefined ? call.firstAudioAt - call.stasisAt : undefined;
}
