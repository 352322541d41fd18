import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  test('When nothing is set, then every default is usable and no secret has a value', () => {
    const config = loadConfig({});
    expect(config.temporal).toMatchObject({ namespace: 'default', taskQueue: 'kasparro-etl', address: undefined });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.sources.coingecko).toMatchObject({ COINGECKO_PAGE_SIZE: 250 });
    expect(config.sources.coingecko).not.toHaveProperty('COINGECKO_API_KEY');
    expect(config.sources.coinpaprika).not.toHaveProperty('COINPAPRIKA_API_KEY');
    expect(config.sources.csv).toMatchObject({ CSV_PATH: 'data/coins.csv', SCHEDULE_INTERVAL_CSV: 3_600_000 });
    expect(Object.isFrozen(config.sources)).toBe(true);
  });

  test.each([
    ['DATABASE_URL', 'mysql://x@y/z'],
    ['COINGECKO_PAGE_SIZE', '251'],
    ['SCHEDULE_INTERVAL_COINPAPRIKA', 'every five minutes'],
    ['ETL_FAIL_MODE', 'sometimes'],
    ['ETL_FAIL_AFTER_N_RECORDS', '-3'],
    ['TEMPORAL_ADDRESS', 'http://localhost'],
    ['LOG_PRETTY', 'maybe'],
    ['COINPAPRIKA_BASE_URL', 'not a url'],
  ])('When %s is %j, then loading stops with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  test('When values are valid, then they are parsed to their types', () => {
    const config = loadConfig({
      ETL_FAIL_AFTER_N_RECORDS: '500',
      ETL_FAIL_MODE: 'fatal',
      SCHEDULE_INTERVAL_COINGECKO: '90s',
      LOG_PRETTY: 'false',
      TEMPORAL_ADDRESS: 'temporal:7233',
    });
    expect(config.etl).toMatchObject({ failAfterRecords: 500, failMode: 'fatal' });
    expect(config.sources.coingecko).toMatchObject({ SCHEDULE_INTERVAL_COINGECKO: 90_000 });
    expect(config.log.pretty).toBe(false);
    expect(config.temporal.address).toBe('temporal:7233');
  });

  test('When a variable is set but empty, then it counts as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', COINGECKO_API_KEY: '' }).databaseUrl).toBeUndefined();
  });
});

describe('schema-change policies', () => {
  test('When nothing is set, then every source quarantines and never accepts a rename by itself', () => {
    const config = loadConfig({});
    for (const policy of Object.values(config.schemaChanges)) expect(policy).toEqual({ policy: 'quarantine', autoAcceptAt: undefined });
    expect(Object.keys(config.schemaChanges).sort()).toEqual(['coingecko', 'coinpaprika', 'csv']);
  });

  test('When a default and one source\'s override are set, then the override wins for that source only', () => {
    const config = loadConfig({ SCHEMA_CHANGE_POLICY: 'freeze', SCHEMA_CHANGE_POLICY_CSV: 'quarantine', SCHEMA_AUTO_ACCEPT_CONFIDENCE_COINGECKO: '0.9' });
    expect(config.schemaChanges.coingecko).toEqual({ policy: 'freeze', autoAcceptAt: 0.9 });
    expect(config.schemaChanges.coinpaprika).toEqual({ policy: 'freeze', autoAcceptAt: undefined });
    expect(config.schemaChanges.csv).toEqual({ policy: 'quarantine', autoAcceptAt: undefined });
  });

  test('When auto-accept is on by default and off for one source, then that source never accepts by itself', () => {
    const config = loadConfig({ SCHEMA_AUTO_ACCEPT_CONFIDENCE: '0.9', SCHEMA_AUTO_ACCEPT_CONFIDENCE_CSV: 'off' });
    expect(config.schemaChanges.csv?.autoAcceptAt).toBeUndefined();
    expect(config.schemaChanges.coingecko?.autoAcceptAt).toBe(0.9);
  });

  test('When a policy or confidence is not valid, then the error names the variable', () => {
    expect(() => loadConfig({ SCHEMA_CHANGE_POLICY_COINGECKO: 'evolve' })).toThrow(/SCHEMA_CHANGE_POLICY_COINGECKO/);
    expect(() => loadConfig({ SCHEMA_AUTO_ACCEPT_CONFIDENCE: '1.5' })).toThrow(/SCHEMA_AUTO_ACCEPT_CONFIDENCE/);
    expect(() => loadConfig({ SCHEMA_AUTO_ACCEPT_CONFIDENCE: '0' })).toThrow(/SCHEMA_AUTO_ACCEPT_CONFIDENCE/);
  });
});
