// The live progress line on stderr: rewritten in place (`\r`) on a terminal, one plain line
// per update otherwise (a CI log, a file).

export class ProgressLine {
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(text: string): void {
    if (this.stream.isTTY) {
      const width = this.stream.columns ?? 120;
      this.stream.write(`\r${text.slice(0, width - 1)}\u001B[K`);
      this.shown = true;
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  /** Ends the line in place, so what follows starts on a line of its own. */
  finish(): void {
    if (this.shown) this.stream.write('\n');
    this.shown = false;
  }
}
