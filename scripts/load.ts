// npm run load -- --rate R --duration S [--flow play|callback|FILE] [--asterisk|--fake] …
// Drives calls through the engine at a steady rate and reports what callers got and what
// it cost; see scripts/load/options.ts for every option and scripts/load/run.ts for a run.
//
// Exit codes: 0 the run finished (however many calls failed: they are the measurement),
// 1 it could not be run (set-up failed, e.g. a warm-up call did not complete), 2 a usage
// mistake, 130 interrupted twice.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Cleanup } from './load/children.js';
import { appsFile, flowDocument } from './load/flows.js';
import { parseCommand, USAGE, UsageError, type LoadOptions } from './load/options.js';
import { formatComparison, formatTable, readResult } from './load/report.js';
import { runLoad } from './load/run.js';

const say = (line: string): void => {
  process.stderr.write(`load: ${line}\n`);
};

async function writeApps(file: string, options: LoadOptions): Promise<number> {
  if (options.serverPort === 0) throw new UsageError('--apps-out needs --server-port: the apps file names the callback server');
  const origin = `http://127.0.0.1:${options.serverPort}`;
  await writeFile(file, appsFile(options.did, await flowDocument(options.flow, origin, options.callbackTimeoutMs)));
  say(`wrote ${file}: DID ${options.did}, callback server ${origin} (run the tool with --server-port ${options.serverPort})`);
  return 0;
}

async function report(file: string, compare: string | undefined): Promise<number> {
  const result = await readResult(file);
  process.stdout.write(`${formatTable(result)}\n`);
  if (compare !== undefined) process.stdout.write(`\n${formatComparison(await readResult(compare), result, compare)}\n`);
  return 0;
}

async function run(options: LoadOptions, argv: readonly string[]): Promise<number> {
  const cleanup = new Cleanup();
  const interrupt = new AbortController();
  // First Ctrl-C: stop placing calls, give those in progress 5 s, report. Second: stop everything now.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!interrupt.signal.aborted) {
      say(`${signal}: no more calls; reporting what was measured (again to stop at once)`);
      interrupt.abort();
      return;
    }
    say(`${signal} again: stopping everything`);
    void cleanup.runAll(3000).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runLoad({ options, command: argv, cleanup, interrupt: interrupt.signal, say });
    const out = resolve(options.out);
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${formatTable(result)}\n`);
    if (options.compare !== undefined) process.stdout.write(`\n${formatComparison(await readResult(options.compare), result, options.compare)}\n`);
    say(`result written to ${out}`);
    return 0;
  } finally {
    say('stopping what the run started');
    await cleanup.runAll();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommand(argv);
  switch (command.kind) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'report':
      return report(command.file, command.compare);
    case 'apps':
      return writeApps(command.file, command.options);
    case 'run':
      return run(command.options, argv);
  }
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`load: ${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`load: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
