import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SentinelError } from './errors';
import { loadConfig, parseConfigFile } from './config';

function configFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-config-'));
  const file = join(dir, 'sentinel.json');
  writeFileSync(file, content);
  return file;
}

const noEnv = { HOME: '/home/op' } as NodeJS.ProcessEnv;

describe('config', () => {
  it('applies defaults when there is no file', () => {
    const c = loadConfig({}, noEnv);
    expect(c.server).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(c.dataDir).toBe('/home/op/.local/share/sentinel');
    expect(c.log.level).toBe('info');
    expect(c.demo).toBe(false);
    expect(c.configFile).toBeNull();
  });

  it('rejects an unknown key and names its full path', () => {
    expect(() => parseConfigFile({ server: { port: 1, prot: 2 } }, 'x.json')).toThrow('x.json: unknown key "server.prot"');
    expect(() => parseConfigFile({ sever: {} }, 'x.json')).toThrow('unknown key "sever"');
  });

  it('names the key whose value is wrong', () => {
    expect(() => parseConfigFile({ server: { port: 70000 } }, 'x.json')).toThrow(/x\.json: "server\.port": /);
    expect(() => parseConfigFile({ log: { level: 'loud' } }, 'x.json')).toThrow(/"log\.level"/);
  });

  it('reports a file that is not JSON, or missing, with its path', () => {
    const bad = configFile('{ server: ');
    expect(() => loadConfig({ configFile: bad }, noEnv)).toThrow(new RegExp(`config file ${bad} is not valid JSON`));
    expect(() => loadConfig({ configFile: '/nonexistent/sentinel.json' }, noEnv)).toThrow(
      'config file /nonexistent/sentinel.json cannot be read (ENOENT)',
    );
  });

  it('layers file < environment < flags, and resolves file paths relative to the file', () => {
    const file = configFile(JSON.stringify({ server: { port: 9000, host: '0.0.0.0' }, dataDir: 'data', assetsDir: '/opt/assets' }));
    const fromFile = loadConfig({ configFile: file }, noEnv);
    expect(fromFile.server).toEqual({ port: 9000, host: '0.0.0.0' });
    expect(fromFile.dataDir).toBe(join(file, '..', 'data'));
    expect(fromFile.assetsDir).toBe('/opt/assets');

    const env = {
      ...noEnv,
      SENTINEL_PORT: '9100',
      SENTINEL_DATA_DIR: '/srv/sentinel',
      SENTINEL_ASSETS: '/mnt/assets',
      SENTINEL_LOG_LEVEL: 'debug',
    };
    const fromEnv = loadConfig({ configFile: file }, env);
    expect(fromEnv.server.port).toBe(9100);
    expect(fromEnv.dataDir).toBe('/srv/sentinel');
    expect(fromEnv.assetsDir).toBe('/mnt/assets');
    expect(fromEnv.log.level).toBe('debug');

    const fromFlags = loadConfig({ configFile: file, port: 9200, dataDir: '/tmp/d', host: '127.0.0.2' }, env);
    expect(fromFlags.server).toEqual({ port: 9200, host: '127.0.0.2' });
    expect(fromFlags.dataDir).toBe('/tmp/d');
  });

  it('rejects bad environment values by variable name', () => {
    expect(() => loadConfig({}, { ...noEnv, SENTINEL_PORT: 'eighty' })).toThrow('SENTINEL_PORT="eighty" is not a port number');
    expect(() => loadConfig({}, { ...noEnv, SENTINEL_LOG_LEVEL: 'loud' })).toThrow(SentinelError);
  });

  it('takes a Postgres database from database.url or SENTINEL_DATABASE_URL, and refuses anything but postgres://', () => {
    expect(loadConfig({}, noEnv).database).toEqual({});
    const file = configFile('{"database":{"url":"postgres://sentinel:pw@db.cta.local:5432/sentinel"}}');
    expect(loadConfig({ configFile: file }, noEnv).database.url).toBe('postgres://sentinel:pw@db.cta.local:5432/sentinel');
    const env = { ...noEnv, SENTINEL_DATABASE_URL: 'postgresql://db2/sentinel' };
    expect(loadConfig({ configFile: file }, env).database.url).toBe('postgresql://db2/sentinel');

    expect(() => parseConfigFile({ database: { url: 'sqlite:///var/lib/sentinel.db' } }, 'x.json')).toThrow(
      'x.json: "database.url": expected a postgres://user:password@host:port/database URL',
    );
    expect(() => parseConfigFile({ database: { path: 'x' } }, 'x.json')).toThrow('unknown key "database.path"');
    // The environment's value is not repeated: it may carry a password.
    expect(() => loadConfig({}, { ...noEnv, SENTINEL_DATABASE_URL: 'mysql://u:secret@db/x' })).toThrow(
      /^environment variable SENTINEL_DATABASE_URL is not a postgres:\/\/user:password@host:port\/database URL$/,
    );
  });
});
