// pino JSON logs for every service. One root logger per process; modules take
// a child with their own `component` field.
import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel = 'info', name = 'maas'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
