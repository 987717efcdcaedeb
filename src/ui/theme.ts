import { createContext, useContext } from 'react';
import type { HostStatus } from '../engine/playbook.js';

/**
 * Colours by meaning. Under NO_COLOR (any non-empty value, see no-color.org) or TERM=dumb every
 * colour is undefined: the glyphs and words carry the meaning on their own.
 */
export interface Theme {
  ok?: string;
  changed?: string;
  failed?: string;
  skipped?: string;
  warn?: string;
  accent?: string;
  added?: string;
  removed?: string;
  hunk?: string;
}

export const COLOURS: Theme = {
  ok: 'green',
  changed: 'yellow',
  failed: 'red',
  skipped: 'gray',
  warn: 'yellow',
  accent: 'cyan',
  added: 'green',
  removed: 'red',
  hunk: 'cyan',
};

export function themeFor(env: NodeJS.ProcessEnv): Theme {
  return (env.NO_COLOR ?? '') !== '' || env.TERM === 'dumb' ? {} : COLOURS;
}

export const ThemeContext = createContext<Theme>(COLOURS);
export const useTheme = (): Theme => useContext(ThemeContext);

export const GLYPH: Record<HostStatus, string> = {
  ok: '✓',
  changed: '+',
  failed: '✗',
  skipped: '-',
  unreachable: '!',
};

export function statusColour(theme: Theme, status: HostStatus): string | undefined {
  return status === 'unreachable' ? theme.failed : theme[status];
}
