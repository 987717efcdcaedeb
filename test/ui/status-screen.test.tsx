import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { render } from 'ink-testing-library';
import { StatusScreen } from '../../src/ui/components/StatusScreen.js';
import type { StatusView } from '../../src/ui/status/status-view.js';
import { WatchApp } from '../../src/ui/status/watch-status.js';

const view = (n: number, exitCode = 0): StatusView => ({
  table: ['shard meet.example.org', 'BRIDGE   NICKNAME', `jvb1     look-${n}`],
  problems: exitCode ? ['! jvb1: not in the brewery as nick-1'] : ['all well: 1 bridge(s) in the brewery, no drift'],
  drift: ['jvb1:', '  Point the bridge: edit /etc/jitsi/videobridge/jvb.conf', '    -old', '    +new'],
  exitCode,
  at: `07:00:0${n} UTC`,
});

async function until(frame: () => string | undefined, what: RegExp, ms = 3000): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what.test(frame() ?? '')) return frame()!;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`the screen never showed ${what}:\n${frame()}`);
}

describe('status --watch on the screen', () => {
  test('looks again by itself, shows each look in place, d toggles the drift diffs, q ends with the last exit code', async () => {
    let n = 0;
    let code: number | null = null;
    const ui = render(
      <WatchApp look={async () => view(++n, n >= 2 ? 2 : 0)} seconds={0.05} done={(c) => (code = c)} />,
    );
    await until(ui.lastFrame, /look-1/);
    assert.match(ui.lastFrame()!, /all well/);
    const second = await until(ui.lastFrame, /look-[2-9]/);
    assert.match(second, /! jvb1: not in the brewery/);
    assert.doesNotMatch(second, /look-1\b/, 'the screen is redrawn, not appended');
    ui.stdin.write('d');
    const drift = await until(ui.lastFrame, /\+new/);
    assert.match(drift, /d problems/);
    ui.stdin.write('q');
    await until(() => String(code), /^2$/);
    ui.unmount();
  });

  test('a screen of 24 rows is never overrun: long lists are cut with a count', () => {
    const long: StatusView = { ...view(1, 2), problems: Array.from({ length: 40 }, (_, i) => `! problem ${i}`) };
    const ui = render(
      <StatusScreen view={long} error={null} showDrift={false} looking={false} spinner="" seconds={5} rows={24} />,
    );
    const lines = ui.lastFrame()!.split('\n');
    assert.ok(lines.length <= 24, `${lines.length} lines`);
    assert.match(ui.lastFrame()!, /… \d+ more line\(s\)/);
    assert.match(ui.lastFrame()!, /q quit/);
    ui.unmount();
  });
});
