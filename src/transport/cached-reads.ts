import type { ExecOptions, ExecResult, FileStat, Host, WriteOptions, WriteResult } from './host.js';
import type { LinkPolicy } from './link-policy.js';
import { readFileAnswer, readMany, textsOf, type ReadAnswer } from './read-many.js';

/**
 * A host that remembers the files read from it until something could have changed them, so that
 * steps plan from the files read with the facts instead of another round trip each. What is
 * remembered is dropped by any command not marked readOnly, by a write (that file), and by
 * forget(), which the runner calls before it waits on the user. A read that overlaps a change is
 * not remembered.
 */
export class CachedReads implements Host {
  private readonly known = new Map<string, ReadAnswer>();
  /** Changes under way, and a count of changes begun or ended: a read keeps its answer only if neither moved. */
  private changing = 0;
  private generation = 0;

  constructor(private readonly inner: Host) {}

  get name(): string {
    return this.inner.name;
  }

  get linkPolicy(): LinkPolicy | undefined {
    return this.inner.linkPolicy;
  }

  /** Files read by other means (with the facts): null for a missing file, the refusal for one that is not read. */
  remember(files: ReadonlyMap<string, ReadAnswer>): void {
    if (this.changing === 0) for (const [path, content] of files) this.known.set(path, content);
  }

  forget(): void {
    this.known.clear();
  }

  private async changes<T>(run: () => Promise<T>, path?: string): Promise<T> {
    this.changing++;
    this.generation++;
    if (path === undefined) this.known.clear();
    else this.known.delete(path);
    try {
      return await run();
    } finally {
      this.changing--;
      this.generation++;
      if (path === undefined) this.known.clear();
      else this.known.delete(path);
    }
  }

  private async reading<T>(read: () => Promise<T>, keep: (answer: T) => void): Promise<T> {
    const before = this.generation;
    const answer = await read();
    if (this.changing === 0 && this.generation === before) keep(answer);
    return answer;
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return opts.readOnly ? this.inner.exec(argv, opts) : this.changes(() => this.inner.exec(argv, opts));
  }

  async readFile(path: string): Promise<string | null> {
    const hit = this.known.get(path);
    if (hit !== undefined) return readFileAnswer(this.name, path, hit);
    return this.reading(
      () => this.inner.readFile(path),
      (content) => this.known.set(path, content),
    );
  }

  async readFiles(paths: readonly string[]): Promise<Map<string, string | null>> {
    const answers = new Map<string, ReadAnswer>();
    for (const p of paths) if (this.known.has(p)) answers.set(p, this.known.get(p)!);
    const missing = paths.filter((p) => !answers.has(p));
    if (missing.length)
      for (const [p, a] of await this.reading(
        () => readMany(this.inner, missing),
        (files) => this.remember(files),
      ))
        answers.set(p, a);
    return textsOf(this.name, new Map(paths.map((p) => [p, answers.get(p)])));
  }

  writeFile(path: string, content: string, opts?: WriteOptions): Promise<WriteResult> {
    return this.changes(() => this.inner.writeFile(path, content, opts), path);
  }

  stat(path: string): Promise<FileStat | null> {
    return this.inner.stat(path);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
