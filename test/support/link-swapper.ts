import { lstatSync, renameSync, symlinkSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * A hostile owner of a service's config directory (Debian's jitsi-videobridge2 makes
 * /etc/jitsi/videobridge jvb:jitsi, so the bridge's own user owns it), run as that user by the
 * write-race tests. `temp DIR VICTIM`: every temp file a writer creates in DIR is replaced by a
 * link to VICTIM as soon as it appears. `toggle DIR VICTIM NAME`: NAME is swapped, as fast as it
 * goes, between a regular file and a link to VICTIM.
 */

const [mode, dir = '', victim = '', name = 'jvb.conf'] = process.argv.slice(2);

if (mode === 'temp') {
  watch(dir, (_event, file) => {
    if (!file || !file.includes('.jitsi-scale.')) return;
    const p = join(dir, file);
    try {
      if (lstatSync(p).isSymbolicLink()) return;
      unlinkSync(p);
      symlinkSync(victim, p);
    } catch {
      // gone already, or renamed into place: the next one
    }
  });
  process.stdout.write('ready\n');
} else if (mode === 'toggle') {
  process.stdout.write('ready\n');
  for (;;) {
    try {
      symlinkSync(victim, join(dir, '.l'));
      renameSync(join(dir, '.l'), join(dir, name));
      writeFileSync(join(dir, '.f'), 'videobridge {}\n');
      renameSync(join(dir, '.f'), join(dir, name));
    } catch {
      // a leftover of the last round: go on
    }
  }
}
