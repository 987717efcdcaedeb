/** Under CI (CI or CONTINUOUS_INTEGRATION set, as Ink reads them) a terminal UI draws only its last frame. */
export function onTerminal(): boolean {
  const ci = ['CI', 'CONTINUOUS_INTEGRATION'].some(
    (k) => k in process.env && process.env[k] !== '0' && process.env[k] !== 'false',
  );
  return !!(process.stdin.isTTY && process.stdout.isTTY) && !ci;
}
