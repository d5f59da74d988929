import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig, DEFAULT_HEAP_GROWING_PERCENT, defaultPasswordHashConcurrency, parseTrustProxy } from './config';

describe('TRUST_PROXY', () => {
  it('is off when unset, empty, false or 0', () => {
    for (const value of [undefined, '', 'false', '0', '  false ']) expect(parseTrustProxy(value)).toBe(false);
  });

  it('reads true as one hop, never as "trust every hop"', () => {
    expect(parseTrustProxy('true')).toBe(1);
  });

  it('takes a number of trusted hops', () => {
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy('3')).toBe(3);
  });

  it('takes a comma-separated list of proxy addresses and CIDRs, IPv4 and IPv6', () => {
    expect(parseTrustProxy('10.0.0.5')).toEqual(['10.0.0.5']);
    expect(parseTrustProxy('127.0.0.1, 10.0.0.0/8,fd00::/8 , ::1')).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']);
  });

  it.each([
    ['yes', '"yes"'],
    ['TRUE', '"TRUE"'],
    ['-1', '"-1"'],
    ['1.5', '"1.5"'],
    ['10.0.0.0/33', '"10.0.0.0/33"'],
    ['fd00::/129', '"fd00::/129"'],
    ['10.0.0.0/8/8', '"10.0.0.0/8/8"'],
    ['10.0.0.0/', '"10.0.0.0/"'],
    ['256.1.1.1', '"256.1.1.1"'],
    ['nginx', '"nginx"'],
    ['10.0.0.1,,10.0.0.2', '""'],
    ['10.0.0.1, loadbalancer.internal', '"loadbalancer.internal"'],
  ])('refuses %j, naming the bad entry and what is allowed', (value, named) => {
    expect(() => parseTrustProxy(value)).toThrow(/^TRUST_PROXY must be false, true, a number of trusted hops or a comma-separated list of proxy addresses\/CIDRs/);
    expect(() => parseTrustProxy(value)).toThrow(named);
  });

  it('refuses an absurd hop count, which would trust whatever the client sends', () => {
    expect(() => parseTrustProxy('1000')).toThrow('TRUST_PROXY must be at most 64 hops, got "1000"');
  });

  it('is read by AppConfig.fromEnv, and a bad value stops the start', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mintline-config-'));
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir }).trustProxy).toBe(false);
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, TRUST_PROXY: 'true' }).trustProxy).toBe(1);
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, TRUST_PROXY: '172.18.0.0/16' }).trustProxy).toEqual(['172.18.0.0/16']);
    expect(() => AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, TRUST_PROXY: 'on' })).toThrow(/TRUST_PROXY must be/);
  });
});

describe('LOGIN_CONCURRENCY', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mintline-config-'));

  it('defaults to four password checks in flight per core', () => {
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir }).loginConcurrency).toBe(4 * availableParallelism());
  });

  it('takes a whole number of at least 1', () => {
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, LOGIN_CONCURRENCY: '2' }).loginConcurrency).toBe(2);
    for (const bad of ['0', '-3', '2.5', 'many']) {
      expect(() => AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, LOGIN_CONCURRENCY: bad })).toThrow(`LOGIN_CONCURRENCY must be a whole number of at least 1, got "${bad}"`);
    }
  });
});

describe('HEAP_GROWING_PERCENT', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mintline-config-'));

  it('defaults to 60%, and 0 leaves V8 its own heuristic', () => {
    expect(DEFAULT_HEAP_GROWING_PERCENT).toBe(60);
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir }).heapGrowingPercent).toBe(60);
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, HEAP_GROWING_PERCENT: '30' }).heapGrowingPercent).toBe(30);
  });

  it('refuses anything but a whole number from 0 to 1000', () => {
    for (const bad of ['-1', '1001', '12.5', 'low']) {
      expect(() => AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, HEAP_GROWING_PERCENT: bad })).toThrow(
        `HEAP_GROWING_PERCENT must be a whole number from 0 to 1000, got "${bad}"`,
      );
    }
  });
});

describe('PASSWORD_HASH_CONCURRENCY', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mintline-config-'));

  it('defaults to one hash at once per four cores, at least one', () => {
    expect(defaultPasswordHashConcurrency()).toBe(Math.max(1, Math.floor(availableParallelism() / 4)));
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir }).passwordHashConcurrency).toBe(defaultPasswordHashConcurrency());
  });

  it('takes a whole number of at least 1', () => {
    expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, PASSWORD_HASH_CONCURRENCY: '3' }).passwordHashConcurrency).toBe(3);
    for (const bad of ['0', '-1', '1.5', 'all']) {
      expect(() => AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, PASSWORD_HASH_CONCURRENCY: bad })).toThrow(
        `PASSWORD_HASH_CONCURRENCY must be a whole number of at least 1, got "${bad}"`,
      );
    }
  });
});
