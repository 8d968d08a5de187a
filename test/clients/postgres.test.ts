// pg against the real PostgreSQL the test runner starts (docs/testing.md):
// what the registry will rely on — a connection, DDL, transactions that commit
// and roll back, and advisory locks between two sessions (migrations under a
// lock, issue 7).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Pool } from 'pg';
import { createDatabase, testServices } from '../support/services';

let pool: Pool;

before(async () => {
  pool = new Pool({ connectionString: await createDatabase(testServices().databaseUrl, 'pg-smoke'), max: 4 });
});

after(async () => {
  await pool?.end();
});

test('a table takes rows; a committed transaction is visible, a rolled-back one is not', async () => {
  await pool.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL UNIQUE)');
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    await tx.query('INSERT INTO items (name) VALUES ($1), ($2)', ['a', 'b']);
    await tx.query('COMMIT');
    await tx.query('BEGIN');
    await tx.query('INSERT INTO items (name) VALUES ($1)', ['c']);
    await tx.query('ROLLBACK');
    // A unique violation aborts the transaction; nothing of it stays.
    await tx.query('BEGIN');
    await tx.query('INSERT INTO items (name) VALUES ($1)', ['d']);
    await assert.rejects(
      tx.query('INSERT INTO items (name) VALUES ($1)', ['a']),
      (err: Error & { code?: string }) => err.code === '23505',
    );
    await tx.query('ROLLBACK');
  } finally {
    tx.release();
  }
  const { rows } = await pool.query<{ name: string }>('SELECT name FROM items ORDER BY name');
  assert.deepEqual(
    rows.map((r) => r.name),
    ['a', 'b'],
  );
});

test('an advisory lock held by one session is refused to another until released', async () => {
  const [one, two] = [await pool.connect(), await pool.connect()];
  try {
    const key = 7_000_001;
    const tryLock = async (client: typeof one): Promise<boolean> =>
      (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key])).rows[0].locked;
    assert.equal(await tryLock(one), true);
    assert.equal(await tryLock(two), false);
    // A blocking waiter gets the lock as soon as the holder lets go.
    const waiting = two.query('SELECT pg_advisory_lock($1)', [key]);
    await one.query('SELECT pg_advisory_unlock($1)', [key]);
    await waiting;
    assert.equal(await tryLock(one), false);
    await two.query('SELECT pg_advisory_unlock($1)', [key]);
  } finally {
    one.release();
    two.release();
  }
});

test('a wrong password is refused (the server checks credentials)', async () => {
  const url = new URL(testServices().databaseUrl);
  url.password = 'not-the-password';
  const client = new Client({ connectionString: url.toString() });
  client.on('error', () => undefined);
  await assert.rejects(client.connect(), (err: Error & { code?: string }) => err.code === '28P01');
  await client.end().catch(() => undefined);
});
