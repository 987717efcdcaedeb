import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';
import type { StatusView } from '../status/status-view.js';

export interface StatusScreenProps {
  view: StatusView | null;
  /** Why the last look failed, if it did (the view then is the one before). */
  error: string | null;
  showDrift: boolean;
  looking: boolean;
  spinner: string;
  seconds: number;
  rows: number;
}

/**
 * The live status screen: a title line, the table, the problems (or the drift with its diffs when
 * asked), and a key line, cut to the terminal's height so it redraws in place.
 */
export function StatusScreen(p: StatusScreenProps) {
  const theme = useTheme();
  const v = p.view;
  const head = `jitsi-scale status · every ${p.seconds}s${v ? ` · looked at ${v.at}` : ''}`;
  const body = v ? (p.showDrift ? v.drift : v.problems) : ['looking at the shard…'];
  const table = v?.table ?? [];
  const room = Math.max(1, p.rows - 3 - table.length - (p.error ? 1 : 0) - 1);
  const shown = body.length > room ? [...body.slice(0, room - 1), `… ${body.length - room + 1} more line(s)`] : body;
  const colour = !v ? undefined : p.showDrift ? undefined : v.exitCode === 0 ? theme.ok : theme.failed;
  return (
    <Box flexDirection="column">
      <Text color={theme.accent}>
        {head} {p.looking ? p.spinner : ' '}
      </Text>
      {table.map((l, i) => (
        <Text key={`t${i}`}>{l || ' '}</Text>
      ))}
      <Text> </Text>
      {shown.map((l, i) => (
        <Text key={`b${i}`} color={colour}>
          {l}
        </Text>
      ))}
      {p.error ? <Text color={theme.failed}>last look failed: {p.error}</Text> : null}
      <Text dimColor>q quit · d {p.showDrift ? 'problems' : 'drift and its diffs'} · r look now</Text>
    </Box>
  );
}
