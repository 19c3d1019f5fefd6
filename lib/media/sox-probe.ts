// Start-up check: is sox there, and can it read mp3? Better said once at start than on
// the first <Play> of an mp3.
import { execFile } from 'node:child_process';
import { SOX_INSTALL_HINT, TranscodeError } from './transcode.js';

export interface SoxCapabilities {
  /** e.g. `v14.4.2`, or `unknown`. */
  readonly version: string;
  readonly mp3: boolean;
}

function run(sox: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(sox, args, { timeout: 5000, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
  });
}

/**
 * @throws TranscodeError `sox_missing` when sox cannot be run, with the install command.
 */
export async function probeSox(sox = 'sox'): Promise<SoxCapabilities> {
  let help: string;
  let versionText: string;
  try {
    [help, versionText] = await Promise.all([run(sox, ['-h']), run(sox, ['--version'])]);
  } catch (error) {
    throw new TranscodeError('sox_missing', `"${sox}" could not be run; install it: ${SOX_INSTALL_HINT}`, { cause: error });
  }
  const formats = /AUDIO FILE FORMATS:([^\n]*)/.exec(help)?.[1]?.trim().split(/\s+/) ?? [];
  return { version: /v\d+(?:\.\d+)+/.exec(versionText)?.[0] ?? 'unknown', mp3: formats.includes('mp3') };
}
