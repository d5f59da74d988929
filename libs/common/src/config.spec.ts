import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig, parseTrustProxy } from './config';

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
