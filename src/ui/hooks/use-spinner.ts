import { useEffect, useState } from 'react';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The spinner's frame; ticks only while something on screen spins, so an idle screen is still. */
export function useSpinner(active: boolean, ms = 100): string {
  const [i, setI] = useState(0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setI((n) => (n + 1) % FRAMES.length), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return FRAMES[i]!;
}
