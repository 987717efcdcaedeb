/**
 * Pure: words of a POSIX shell line without expansion, as Python's shlex.split (which Ansible
 * uses on ansible_ssh_common_args) gives them: single quotes keep everything, double quotes keep
 * all but \" \\ \$ \` escapes, a backslash outside quotes keeps the next character.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const add = (s: string) => (word = (word ?? '') + s);
  while (i < line.length) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed single quote in: ${line}`);
      add(line.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      i++;
      add('');
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1]!)) i++;
        add(line[i]!);
        i++;
      }
      if (i >= line.length) throw new Error(`unclosed double quote in: ${line}`);
      i++;
    } else if (c === '\\' && i + 1 < line.length) {
      add(line[i + 1]!);
      i += 2;
    } else {
      add(c);
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}
