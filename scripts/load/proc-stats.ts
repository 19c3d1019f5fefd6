// CPU time and memory of a process, read from Linux's /proc: CPU from /proc/<pid>/stat
// (user + system time of the process and of the children it has waited for, e.g. the
// engine's sox and espeak-ng), resident memory and its peak (VmRSS, VmHWM) from
// /proc/<pid>/status. Readings of a process that has gone are undefined.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessReading {
  /** CPU seconds used since the process started. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  /** The largest resident set the process ever had (VmHWM). */
  readonly peakRssBytes: number;
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat's times (`getconf CLK_TCK`, nearly always 100). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const probe = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
    const value = Number(probe.stdout?.trim());
    ticksPerSecond = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

function statusKilobytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s*(\\d+)\\s*kB`, 'm').exec(status);
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

export function readProcess(pid: number): ProcessReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: count fields after its last ')'.
    // There, field 0 is `state` (field 3 of proc(5)); utime, stime, cutime, cstime follow at 11-14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { cpuSeconds: ticks / clockTicks(), rssBytes: statusKilobytes(status, 'VmRSS'), peakRssBytes: statusKilobytes(status, 'VmHWM') };
  } catch {
    return undefined;
  }
}

/** A process whose CPU and memory the run reports, by the role it plays. */
export interface WatchedProcess {
  /** `engine`, `asterisk`, `fake-ari`, `redis`, `callback-server`, `load-tool`. */
  readonly role: string;
  readonly pid: number;
}

/** CPU used and memory between two moments of one process. */
export interface ProcessUsage {
  readonly role: string;
  readonly pid: number;
  readonly cpuSeconds: number;
  /** Share of one core over the interval, in percent (200 % is two cores busy). */
  readonly percentOfCore: number;
  readonly peakRssBytes: number;
}

export function usageBetween(process: WatchedProcess, from: ProcessReading | undefined, to: ProcessReading | undefined, seconds: number): ProcessUsage | undefined {
  if (from === undefined || to === undefined || seconds <= 0) return undefined;
  const cpuSeconds = to.cpuSeconds - from.cpuSeconds;
  return { role: process.role, pid: process.pid, cpuSeconds, percentOfCore: (100 * cpuSeconds) / seconds, peakRssBytes: to.peakRssBytes };
}

/** One reading of every watched process at one moment. */
export interface Snapshot {
  readonly at: number;
  readonly readings: ReadonlyMap<string, ProcessReading | undefined>;
}

export function snapshot(processes: readonly WatchedProcess[]): Snapshot {
  return { at: Date.now(), readings: new Map(processes.map((p) => [p.role, readProcess(p.pid)])) };
}

/** Usage of every watched process between two snapshots. */
export function usageBetweenSnapshots(processes: readonly WatchedProcess[], from: Snapshot, to: Snapshot): ProcessUsage[] {
  const seconds = (to.at - from.at) / 1000;
  return processes.flatMap((p) => usageBetween(p, from.readings.get(p.role), to.readings.get(p.role), seconds) ?? []);
}
