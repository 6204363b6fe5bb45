import { describe, expect, test } from 'vitest';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl } from '../../../../server/db/databaseUrl.ts';
import { isDatabaseUnavailable } from '../../../../server/db/pool.ts';

describe('parseDatabaseUrl', () => {
  test('host, port, database and user; the password never shows in the redacted form', () => {
    const t = parseDatabaseUrl(' postgres://pump%40watch:s3cr%2Ft@db.example:6543/clinical?sslmode=require ');
    expect(t).toMatchObject({ host: 'db.example', port: 6543, database: 'clinical', user: 'pump@watch' });
    expect(t.connectionString).toBe('postgres://pump%40watch:s3cr%2Ft@db.example:6543/clinical?sslmode=require');
    expect(t.redacted).toBe('postgres://pump%40watch:***@db.example:6543/clinical?sslmode=require');
    expect(t.redacted).not.toContain('s3cr');
  });

  test('defaults: port 5432; postgresql:// too; a unix socket folder in ?host=', () => {
    expect(parseDatabaseUrl(DEFAULT_DATABASE_URL)).toMatchObject({ host: '127.0.0.1', port: 5432, database: 'pumpwatch', user: 'pumpwatch' });
    expect(parseDatabaseUrl('postgresql://db/x')).toMatchObject({ host: 'db', port: 5432, database: 'x', user: null });
    expect(parseDatabaseUrl('postgres:///pumpwatch?host=/var/run/postgresql')).toMatchObject({ host: '/var/run/postgresql', database: 'pumpwatch' });
  });

  test.each([
    ['not a url', /is not a URL/],
    ['mysql://db/x', /must start with postgres:\/\//],
    ['postgres:///x', /names no host/],
    ['postgres://db', /names no database/],
    ['postgres://db/', /names no database/],
    ['postgres://db/a/b', /names no database/],
  ])('%s is refused with one line naming DATABASE_URL', (raw, why) => {
    expect(() => parseDatabaseUrl(raw)).toThrow(expect.objectContaining({ code: 'BAD_DATABASE_URL' }));
    expect(() => parseDatabaseUrl(raw)).toThrow(why);
  });
});

describe('isDatabaseUnavailable', () => {
  const withCode = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });
  test('connection refused, shutdown, cannot connect now, connection-class SQLSTATEs, pg timeouts', () => {
    for (const e of [withCode('ECONNREFUSED'), withCode('57P01'), withCode('57P03'), withCode('08006'), new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'), new AggregateError([withCode('ECONNREFUSED')], 'all failed')]) {
      expect(isDatabaseUnavailable(e)).toBe(true);
    }
  });
  test('a statement the database refused is not unavailability', () => {
    for (const e of [withCode('23505'), withCode('42P01'), new Error('boom'), 'text']) expect(isDatabaseUnavailable(e)).toBe(false);
  });
});
