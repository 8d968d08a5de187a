// Node's timers hold at most 2^31 - 1 ms (~24.8 days); a longer delay is
// turned into 1 ms with a TimeoutOverflowWarning, which makes a far deadline
// fire at once, again and again. Every delay the gateway hands to
// setTimeout goes through timerMs; whoever owns a timer re-checks its
// deadline when it fires, so a clamped timer just fires early and is armed
// again.
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function timerMs(delayMs: number): number {
  if (!(delayMs > 0)) return 0;
  return delayMs > MAX_TIMER_MS ? MAX_TIMER_MS : delayMs;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, timerMs(ms)));
}

// Settles when `work` does or after `ms`, whichever comes first.
export async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timerMs(ms));
    }),
  ]);
  clearTimeout(timer);
}
