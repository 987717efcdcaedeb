import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Era } from '../setup/lab-config.js';
import { run } from '../setup/run.js';
import { put } from '../standin-jvb/build-package.js';
import { JICOFO_STANDIN_VERSION } from '../standin-jicofo/build-package.js';

/**
 * TEST STAND-IN for the jitsi-meet metapackage, an empty package whose relations are shaped as
 * upstream builds them per release: `Pre-Depends: jitsi-videobridge2 (= <jvb>-1)` and
 * `Depends: jicofo (= 1.0-<n>-1), …` (jitsi/jitsi-meet-debian-meta, control-tmpl). It pairs
 * Jicofo's stand-in with an older bridge than the newest one in the lab's repository, so that a
 * test can tell the paired version from the newest.
 */
export const META_STANDIN_VERSION = '2.0.999-1';

/** The bridge version the stand-in jitsi-meet release pairs with, one per era (older than STANDIN_VERSION). */
export const PAIRED_BRIDGE_VERSION: Record<Era, string> = {
  current: '2.3-998-gjslab0-1',
  legacy: '2.1-998-gjslab0-1',
};

/** Builds the stand-in jitsi-meet .deb into `outDir`; returns its path. */
export async function buildMetaPackage(era: Era, workDir: string, outDir: string): Promise<string> {
  const root = join(workDir, 'jitsi-meet');
  await rm(root, { recursive: true, force: true });
  await put(
    join(root, 'usr/share/doc/jitsi-meet/README.lab'),
    'TEST STAND-IN built by the jitsi-scale lab. Not Jitsi Meet.\n',
  );
  await put(
    join(root, 'DEBIAN/control'),
    [
      'Package: jitsi-meet',
      `Version: ${META_STANDIN_VERSION}`,
      'Architecture: all',
      'Maintainer: jitsi-scale lab <lab@jitsi-scale.invalid>',
      `Pre-Depends: jitsi-videobridge2 (= ${PAIRED_BRIDGE_VERSION[era]})`,
      `Depends: jicofo (= ${JICOFO_STANDIN_VERSION})`,
      'Section: net',
      'Priority: optional',
      'Description: TEST STAND-IN for the jitsi-meet metapackage',
      ' Built by the jitsi-scale lab: it only names, as the real one does, the versions of one release.',
      '',
    ].join('\n'),
  );
  await mkdir(outDir, { recursive: true });
  const deb = join(outDir, `jitsi-meet_${META_STANDIN_VERSION}_all.deb`);
  await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb]);
  return deb;
}
