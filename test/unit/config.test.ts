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
