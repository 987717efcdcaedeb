/** The end-of-line a file uses, so that edits keep its style (CRLF files stay CRLF). */
export function eolOf(text: string): '\n' | '\r\n' {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  return crlf > lf ? '\r\n' : '\n';
}

/** Splits into lines without their terminators; `finalEol` says whether the last line had one. */
export function splitLines(text: string): { lines: string[]; eol: '\n' | '\r\n'; finalEol: boolean } {
  const eol = eolOf(text);
  if (text === '') return { lines: [], eol, finalEol: true };
  const finalEol = text.endsWith('\n');
  const body = finalEol ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text;
  return { lines: body.split(/\r?\n/), eol, finalEol };
}

export function joinLines(lines: readonly string[], eol: string, finalEol: boolean): string {
  if (lines.length === 0) return '';
  return lines.join(eol) + (finalEol ? eol : '');
}
