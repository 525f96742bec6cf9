/** The databases the fix proofs run on: PGlite always, and the real PostgreSQL server of the test run. */
import { Client, ClientConfig } from 'pg';
import { parse } from 'pg-connection-string';
import type { Database, DatabaseFactory } from '../../src/verify';

/** A factory of fresh databases on a real PostgreSQL server (one CREATE DATABASE per use). */
export function serverFactory(url: string): DatabaseFactory {
  const created: string[] = [];
  const open: Client[] = [];
  let n = 0;
  const admin = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    name: 'PostgreSQL server',
    async create(): Promise<Database> {
      const name = `pgdlint_${process.pid}_${Date.now()}_${n++}`;
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const config = { ...parse(url), database: name } as ClientConfig;
      const client = new Client(config);
      await client.connect();
      open.push(client);
      return {
        exec: async (sql) => {
          await client.query(sql);
        },
        query: async <T>(sql: string) => (await client.query(sql)).rows as T[],
        close: async () => {
          await client.end().catch(() => undefined);
        },
      };
    },
    async dispose() {
      for (const c of open) await c.end().catch(() => undefined);
      await admin(async (c) => {
        for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name}`);
      });
    },
  };
}

export function serverUrl(): string | undefined {
  return process.env.PGD_LINT_TEST_PG || undefined;
}
