// pino JSON logs for every service. One root logger per process; modules take
// a child with their own `component` field.
import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel = 'info', name = 'maas'): Logger {
  // Asynchronous stdout: the per-request access line must not cost a blocking
  // write on the event loop. Lines are not held back (no minimum length), and
  // pino flushes what is pending when the process exits.
  const destination = pino.destination({ dest: 1, sync: false });
  return pino({ name, level, base: { pid: process.pid } }, destination);
}
