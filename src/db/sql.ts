import postgres from 'postgres';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** What repository functions take: the pool, or a transaction when they must commit together. */
export type Db = Sql | Tx;

/** One pool per process, closed with sql.end() on shutdown. */
export function createSql(url: string, options: { max?: number } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { application_name: 'kasparro-etl' },
  });
}
