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
