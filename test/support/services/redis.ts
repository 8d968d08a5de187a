// A real Redis for tests: Debian's redis-server (installed by
// .ci/services.sh), or the binary named by MAAS_REDIS_SERVER.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { TestServer, freePorts, startFresh, type StartOptions } from './server';

export interface RedisInfo {
  // redis://127.0.0.1:<port>
  url: string;
  host: string;
  port: number;
}

export interface RedisOptions extends StartOptions {
  // Keep data across restart(): an append-only file in the server's folder
  // (written every second). Off by default: Redis as a cache loses its data.
  appendOnly?: boolean;
  // Extra `--name value` settings, e.g. { maxmemory: '64mb' }.
  settings?: Record<string, string>;
}

export async function probeRedis(info: RedisInfo): Promise<void> {
  const client = new Redis(info.port, info.host, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis reports a refused connection as "Connection is closed."; the
  // socket's own error says why.
  let socketError: Error | undefined;
  client.on('error', (err: Error) => (socketError = err));
  try {
    await client.connect();
    // Typed as 'PONG', but the check is for a server that answers otherwise.
    const pong: string = await client.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
  } catch (err) {
    throw socketError ?? err;
  } finally {
    client.disconnect();
  }
}

export function startRedis(options: RedisOptions = {}): Promise<TestServer<RedisInfo>> {
  const command = process.env.MAAS_REDIS_SERVER ?? 'redis-server';
  return startFresh('redis', async (dir) => {
    const [port] = await freePorts(1);
    const info: RedisInfo = { url: `redis://127.0.0.1:${port}`, host: '127.0.0.1', port };
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const settings: Record<string, string> = {
      bind: '127.0.0.1',
      port: String(port),
      dir: dataDir,
      daemonize: 'no',
      save: '',
      appendonly: options.appendOnly ? 'yes' : 'no',
      logfile: '',
      loglevel: 'notice',
      ...options.settings,
    };
    const args = Object.entries(settings).flatMap(([name, value]) => [`--${name}`, value]);
    return new TestServer<RedisInfo>({
      name: 'redis',
      dir,
      info,
      logFile: options.logFile,
      startTimeoutMs: options.startTimeoutMs ?? 15_000,
      spawn: () => ({ command, args }),
      probe: () => probeRedis(info),
    });
  });
}
