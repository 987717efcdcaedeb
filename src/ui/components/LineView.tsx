import { Box, Text } from 'ink';
import type { Line } from '../guided/lines.js';
import { useTheme, type Theme } from '../theme.js';

const colourOf = (theme: Theme, tone: string | undefined): string | undefined => {
  if (!tone || tone === 'dim') return undefined;
  if (tone === 'unreachable') return theme.failed;
  return theme[tone as keyof Theme];
};

/**
 * Draws lines as they were laid out: one line, one row (cut at the edge if the layout did not
 * wrap it), so the height on screen is exactly what the layout counted.
 */
export function LineView({ lines, frame = '*' }: { lines: Line[]; frame?: string }) {
  const theme = useTheme();
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line.length === 0
            ? ' '
            : line.map((s, j) => (
                <Text
                  key={j}
                  {...(colourOf(theme, s.tone) ? { color: colourOf(theme, s.tone)! } : {})}
                  bold={!!s.bold}
                  dimColor={s.tone === 'dim'}
                >
                  {s.spinner ? frame : s.text}
                </Text>
              ))}
        </Text>
      ))}
    </Box>
  );
}
