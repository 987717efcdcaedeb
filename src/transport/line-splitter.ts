import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from './host.js';

/**
 * The longest line passed on; a longer one is replaced by one line that says so, not cut (a
 * part of it could be a part of a secret, which the redactor no longer knows for one).
 */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * Turns a stream of chunks into whole lines; a partial last line is flushed at the end. Bytes are
 * decoded across chunks (a character split between two is kept whole), each chunk is looked at
 * once, and what waits for its line break never exceeds MAX_LINE_CHARS: a stream with no line
 * break costs time in proportion to its size and no memory.
 */
export class LineSplitter {
  private pieces: string[] = [];
  private length = 0;
  private tooLong = false;
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly stream: OutputStream,
    private readonly onLine: (stream: OutputStream, line: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      this.add(text.slice(from, nl));
      this.end();
      from = nl + 1;
    }
    this.add(text.slice(from));
  }

  flush(): void {
    this.add(this.decoder.end());
    if (this.length > 0 || this.tooLong) this.end();
  }

  private add(piece: string): void {
    if (this.tooLong || piece === '') return;
    if (this.length + piece.length > MAX_LINE_CHARS) {
      this.tooLong = true;
      this.pieces = [];
      this.length = 0;
      return;
    }
    this.pieces.push(piece);
    this.length += piece.length;
  }

  private end(): void {
    const line = this.tooLong
      ? `… a line of more than ${MAX_LINE_CHARS} characters: not shown`
      : this.pieces.join('').replace(/\r$/, '');
    this.pieces = [];
    this.length = 0;
    this.tooLong = false;
    this.onLine(this.stream, line);
  }
}
