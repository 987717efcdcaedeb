import type { OutputStream } from './host.js';

/** Turns a stream of chunks into whole lines; a partial last line is flushed at the end. */
export class LineSplitter {
  private rest = '';
  constructor(
    private readonly stream: OutputStream,
    private readonly onLine: (stream: OutputStream, line: string) => void,
  ) {}

  push(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.onLine(this.stream, line.replace(/\r$/, ''));
  }

  flush(): void {
    if (this.rest !== '') this.onLine(this.stream, this.rest.replace(/\r$/, ''));
    this.rest = '';
  }
}
