// Registry changes reach every replica through PostgreSQL's LISTEN/NOTIFY:
// the store sends a notice in the transaction of each change (delivered at
// commit), and each replica's listener (one dedicated connection) passes it to
// the catalog (serve the new version, move the alias, unload) and to the key
// cache (forget a revoked key). A replica whose listener lost its connection
// reconnects and treats everything as changed.
//
// Owner: RegistryListener owns its connection and its reconnect timer.
import { Client } from 'pg';
import type { Logger } from '../common/logger';

export const NOTIFY_CHANNEL = 'maas_registry';

export type RegistryNotice = { kind: 'model'; tenant: string; name: string } | { kind: 'key'; prefix: string };

export type NoticeHandler = (notice: RegistryNotice | { kind: 'resync' }) => void;

const RECONNECT_MS = 1000;

export class RegistryListener {
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly onNotice: NoticeHandler,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    client.on('notification', (msg) => {
      if (msg.channel !== NOTIFY_CHANNEL || !msg.payload) return;
      try {
        this.onNotice(JSON.parse(msg.payload) as RegistryNotice);
      } catch (err) {
        this.logger.warn({ err }, 'unreadable registry notice');
      }
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'registry listener connection failed; reconnecting');
      this.reconnectSoon();
    });
    client.on('end', () => this.reconnectSoon());
    await client.connect();
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    this.client = client;
  }

  private reconnectSoon(): void {
    if (this.closed || this.timer) return;
    this.client = null;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.start().then(
        () => this.onNotice({ kind: 'resync' }),
        () => this.reconnectSoon(),
      );
    }, RECONNECT_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
