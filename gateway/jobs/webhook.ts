// A job's webhook: when the job ends (succeeded, failed, cancelled), its
// final status is POSTed as JSON to the URL given at creation. Never blocks
// the worker: it runs beside it, each try bounded in time, a few tries with
// growing pauses, and a failure is logged, not retried for ever. At least
// once per ending observed by a worker (a worker that dies between the end
// and the POST sends nothing; the status stays readable by GET).
import type { Logger } from '../../common/logger';

export interface WebhookOptions {
  timeoutMs?: number; // per try; default 5 s
  tries?: number; // default 3
  pauseMs?: number; // before the 2nd try, doubled after; default 500 ms
}

export function sendWebhook(url: string, body: unknown, logger: Logger, options: WebhookOptions = {}): Promise<void> {
  const tries = options.tries ?? 3;
  const timeoutMs = options.timeoutMs ?? 5000;
  const payload = JSON.stringify(body);
  return (async () => {
    let pauseMs = options.pauseMs ?? 500;
    for (let attempt = 1; attempt <= tries; attempt++) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: payload,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual',
        });
        await response.body?.cancel();
        if (response.status < 300) return;
        throw new Error(`status ${response.status}`);
      } catch (err) {
        if (attempt === tries) {
          logger.warn({ err, url, tries }, 'job webhook failed');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        pauseMs *= 2;
      }
    }
  })();
}

// Only http(s) URLs are taken; anything else is refused at creation.
export function isWebhookUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && value.length <= 2048;
  } catch {
    return false;
  }
}
