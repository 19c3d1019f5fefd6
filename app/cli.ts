#!/usr/bin/env node
// opentact-ari: check documents, simulate flows, run the engine's roles.
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../lib/config/errors.js';
import { check } from './commands/check.js';
import { simulate } from './commands/simulate.js';
import { start, ROLES, type Role } from './commands/start.js';
import { trail } from './commands/trail.js';
import { describeError } from './describe-error.js';
import { processOutput } from './output.js';
import { loadConfig } from '../lib/config/index.js';
import { USER_AGENT } from '../lib/callback/user-agent.js';
import { DialBehaviourError, parseDialBehaviour, type DialBehaviour } from '../lib/simulator/console-call.js';

function dialBehaviour(value: string): DialBehaviour {
  try {
    return parseDialBehaviour(value);
  } catch (error) {
    if (error instanceof DialBehaviourError) throw new InvalidArgumentError('must be answer, busy, no-answer or answer-after:<ms>');
    throw error;
  }
}

function milliseconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of milliseconds');
  return Number(value);
}

function keys(value: string): string {
  if (!/^[0-9*#A-Dwa-d]*$/.test(value)) throw new InvalidArgumentError('may hold 0-9, *, #, A-D, and w for a second of silence');
  return value.replace(/[a-d]/g, (key) => key.toUpperCase());
}

const program = new Command('opentact-ari')
  .description('Runs Opentact XML call flows on Asterisk through ARI')
  .version(USER_AGENT.split('/')[1] ?? '0.0.0')
  .showHelpAfterError();

program
  .command('check')
  .description('validate documents; prints FILE:LINE:COL: CODE message (path) per problem')
  .argument('<file...>', 'Opentact XML documents')
  .action(async (files: string[]) => {
    process.exitCode = await check(files, { maxBytes: loadConfig().callback.maxBytes }, processOutput);
  });

program
  .command('simulate')
  .description('run a flow with a console call; prints one JSON line per thing that happens')
  .argument('<source>', 'a document file, or an http(s) URL that answers one')
  .option('--from <number>', 'caller ID of the simulated caller', '15550001111')
  .option('--to <number>', 'the number called (the DID)', '15550002222')
  .option('--digits <keys>', 'keys the caller presses, in order, whenever the flow listens', keys, '')
  .option('--hangup-after <ms>', 'the caller hangs up after this many ms', milliseconds)
  .option('--dial <behaviour>', 'what <Dial> targets do: answer, busy, no-answer or answer-after:<ms>', dialBehaviour)
  .addOption(new Option('--method <method>', 'method for a URL source').choices(['GET', 'POST', 'PATCH', 'DELETE']).default('POST'))
  .option('--body', 'send the request fields of a URL source as a JSON body', false)
  .option('--timeout <ms>', 'time budget for loading a URL source (default CALLBACK_TIMEOUT_MS)', milliseconds)
  .option('--sca <uuid>', 'the Call Control App UUID the simulated call belongs to')
  .action(async (source: string, options: SimulateCliOptions) => {
    process.exitCode = await simulate(source, options, loadConfig(), processOutput);
  });

program
  .command('start')
  .description('run the engine: every role in one process, or one role with --role')
  .addOption(new Option('--role <role>', 'run only this role').choices(ROLES))
  .action(async (options: { role?: Role }) => {
    await start(options.role, loadConfig());
  });

program
  .command('trail')
  .description("print a call's trail from Redis (REDIS_URL), one JSON line per event, as simulate prints them")
  .argument('<uuid>', "the call's UUID (in its log lines, or GET /admin/calls)")
  .action(async (uuid: string) => {
    process.exitCode = await trail(uuid, loadConfig(), processOutput);
  });

interface SimulateCliOptions {
  readonly from: string;
  readonly to: string;
  readonly digits: string;
  readonly hangupAfter?: number;
  readonly dial?: DialBehaviour;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly body: boolean;
  readonly timeout?: number;
  readonly sca?: string;
}

try {
  await program.parseAsync();
} catch (error) {
  // Anything a person can fix gets one line, never a stack.
  const prefix = error instanceof ConfigError ? 'configuration: ' : '';
  process.stderr.write(`opentact-ari: ${prefix}${describeError(error)}\n`);
  process.exitCode = 2;
}
