import { HoconSyntaxError } from './hocon-lexer.js';

/**
 * The sentence for a HOCON file the service cannot read: the file, the host it is on, the line,
 * the column and what is wrong there. Anything else thrown while reading (a bug of ours) is still
 * put on that file and that host, never on another.
 */
export function hoconFileProblem(path: string, host: string, e: unknown): string {
  if (e instanceof HoconSyntaxError)
    return `${path} on ${host} is not valid HOCON, line ${e.line}, column ${e.col}: ${e.reason}`;
  return `${path} on ${host} could not be read as HOCON (internal error: ${e instanceof Error ? e.message : String(e)})`;
}
