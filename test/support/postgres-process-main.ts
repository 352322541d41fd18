/**
 * `node --import tsx postgres-process-main.ts DIR PORT`: an embedded PostgreSQL with the schema migrated, for
 * test/support/postgres-process.ts. Prints {"url": …} when ready; SIGTERM stops the server, then the process.
 */
import { migrate } from '../../src/db/migrate';
import { createSql } from '../../src/db/sql';
import { startEmbeddedPostgres } from '../../src/infra/embedded-postgres';
import { createLogger } from '../../src/logger';

async function main(): Promise<void> {
  const [dir, port] = process.argv.slice(2);
  if (!dir || !port) throw new Error('usage: postgres-process-main.ts DIR PORT');
  const log = createLogger({ level: 'warn', pretty: false, name: 'test-postgres' });
  const pg = await startEmbeddedPostgres({ dir, port: Number(port), log });
  const sql = createSql(pg.url, { max: 1 });
  await migrate(sql);
  await sql.end();
  process.once('SIGTERM', () => {
    pg.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
  process.stdout.write(`${JSON.stringify({ url: pg.url })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
