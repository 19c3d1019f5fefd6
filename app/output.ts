/** Where a command writes: results on stdout, one-line errors on stderr. */
export interface Output {
  line(text: string): void;
  error(text: string): void;
}

// `opentact-ari simulate flow.xml | head` closes the pipe early: stop quietly, like other tools.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

export const processOutput: Output = {
  line: (text) => void process.stdout.write(`${text}\n`),
  error: (text) => void process.stderr.write(`${text}\n`),
};
