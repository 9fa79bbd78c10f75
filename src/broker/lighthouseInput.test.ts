import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import {
  assertExportTimestamp,
  assertServiceIdentity,
  type ExportPort,
  namespaceDenyReason,
  parsePortSpec,
  unixNanos,
  validatedPorts,
} from './lighthouseInput.ts';

function thrown(fn: () => unknown): MoorError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MoorError) return err;
    throw err;
  }
  throw new Error('expected a MoorError');
}

describe('parsePortSpec', () => {
  it.each([
    ['5432', { name: '', protocol: 'TCP', port: 5432 }],
    ['5432/TCP', { name: '', protocol: 'TCP', port: 5432 }],
    ['53/udp', { name: '', protocol: 'UDP', port: 53 }],
    ['postgres:5432/TCP', { name: 'postgres', protocol: 'TCP', port: 5432 }],
    ['dns:53/UDP', { name: 'dns', protocol: 'UDP', port: 53 }],
    ['m3ua:2905/SCTP', { name: 'm3ua', protocol: 'SCTP', port: 2905 }],
    ['http:80', { name: 'http', protocol: 'TCP', port: 80 }],
    [' 1 ', { name: '', protocol: 'TCP', port: 1 }],
    ['65535', { name: '', protocol: 'TCP', port: 65535 }],
  ])('reads %j', (text, expected) => {
    expect(parsePortSpec(text)).toEqual(expected);
  });

  it.each([
    ['', 'the port is empty'],
    ['0', '"0" is not a port number 1-65535'],
    ['65536', '"65536" is not a port number 1-65535'],
    ['05432', '"05432" is not a port number'],
    ['-1', 'is not a port number'],
    ['5432/ICMP', 'protocol "ICMP" is not TCP, UDP or SCTP'],
    ['5432/', 'protocol "" is not TCP, UDP or SCTP'],
    ['Postgres:5432', 'name "Postgres" is not a DNS-1123 label'],
    [':5432', 'name "" is not a DNS-1123 label'],
    ['pg_1:5432', 'name "pg_1" is not a DNS-1123 label'],
    ['postgres', '"postgres" is not a port number'],
    ['a:b:5432', 'name "a:b" is not a DNS-1123 label'],
  ])('refuses %j', (text, message) => {
    const err = thrown(() => parsePortSpec(text));
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toContain(message);
    expect(err.hint).toContain('[name:]port[/protocol]');
  });
});

describe('validatedPorts', () => {
  const tcp = (name: string, port: number, extra: Partial<ExportPort> = {}): ExportPort => ({
    name,
    protocol: 'TCP',
    port,
    ...extra,
  });

  it('returns clean copies and keeps appProtocol only when set', () => {
    const input = [tcp('http', 80, { appProtocol: 'kubernetes.io/h2c' }), tcp('metrics', 9090)];
    expect(validatedPorts(input, { allowNone: false })).toEqual([
      { name: 'http', protocol: 'TCP', port: 80, appProtocol: 'kubernetes.io/h2c' },
      { name: 'metrics', protocol: 'TCP', port: 9090 },
    ]);
    expect(validatedPorts([tcp('', 5432)], { allowNone: false })).toEqual([
      { name: '', protocol: 'TCP', port: 5432 },
    ]);
    expect(validatedPorts([], { allowNone: true })).toEqual([]);
  });

  it.each<[string, ExportPort[], string]>([
    ['no ports', [], 'the service has no ports'],
    ['port 0', [tcp('a', 0)], '0 is not a port number'],
    ['port 70000', [tcp('a', 70000)], '70000 is not a port number'],
    ['fractional port', [tcp('a', 80.5)], '80.5 is not a port number'],
    [
      'bad protocol',
      [{ name: 'a', protocol: 'ICMP' as ExportPort['protocol'], port: 1 }],
      'protocol "ICMP" is not supported',
    ],
    ['unnamed port among several', [tcp('', 80), tcp('b', 81)], 'port 80/TCP has no name'],
    ['upper-case name', [tcp('HTTP', 80)], 'port name "HTTP" is not a DNS-1123 label'],
    ['long name', [tcp('a'.repeat(64), 80)], 'is not a DNS-1123 label'],
    ['duplicate name', [tcp('a', 80), tcp('a', 81)], 'port name "a" is used twice'],
    ['duplicate number', [tcp('a', 80), tcp('b', 80)], 'port 80/TCP is listed twice'],
    ['bad appProtocol', [tcp('a', 80, { appProtocol: 'not valid' })], 'appProtocol "not valid"'],
    ['too many ports', Array.from({ length: 101 }, (_, i) => tcp(`p${i}`, i + 1)), '101 ports'],
  ])('refuses %s', (_label, ports, message) => {
    const err = thrown(() => validatedPorts(ports, { allowNone: false }));
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toContain(message);
    expect(err.hint).toBeTruthy();
  });

  it('allows the same number over two protocols, as DNS does', () => {
    const ports: ExportPort[] = [tcp('dns-tcp', 53), { name: 'dns-udp', protocol: 'UDP', port: 53 }];
    expect(validatedPorts(ports, { allowNone: false })).toHaveLength(2);
  });
});

describe('service identity', () => {
  it.each([
    ['kube-system', 'starts with "kube-"'],
    ['kube-public', 'starts with "kube-"'],
    ['openshift-monitoring', 'starts with "openshift-"'],
    ['openshift', 'is "openshift"'],
  ])('refuses namespace %s, which remote clusters would not import', (namespace, why) => {
    expect(namespaceDenyReason(namespace)).toContain(why);
    const err = thrown(() => assertServiceIdentity('db', namespace));
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toContain(`namespace "${namespace}" ${why}`);
    expect(err.message).toContain('refuse to import');
    expect(err.message).toContain('no other cluster would ever resolve this service');
  });

  it.each(['default', 'kube', 'openshiftx', 'databases', 'my-kube-ns'])('allows namespace %s', (ns) => {
    expect(namespaceDenyReason(ns)).toBeUndefined();
    expect(() => assertServiceIdentity('db', ns)).not.toThrow();
  });

  it.each([
    ['Db', 'default', 'service name "Db" is not a DNS-1123 label'],
    ['db.x', 'default', 'service name "db.x"'],
    ['', 'default', 'service name ""'],
    ['a'.repeat(64), 'default', 'is not a DNS-1123 label'],
    ['db', 'Default', 'service namespace "Default"'],
    ['db', '-x', 'service namespace "-x"'],
  ])('refuses service %j in namespace %j', (name, ns, message) => {
    expect(thrown(() => assertServiceIdentity(name, ns)).message).toContain(message);
  });
});

describe('export timestamps', () => {
  it('writes Unix nanoseconds like creationTimestamp.UnixNano()', () => {
    expect(unixNanos(new Date('2026-01-01T00:00:00Z'))).toBe('1767225600000000000');
    expect(unixNanos(new Date(1))).toBe('1000000');
    expect(thrown(() => unixNanos(new Date('nope'))).code).toBe('invalid-argument');
  });

  it('accepts int64 decimal strings only', () => {
    for (const ok of ['0', '1767225600000000000', '9223372036854775806', '9223372036854775807']) {
      expect(() => assertExportTimestamp(ok)).not.toThrow();
    }
    for (const bad of ['', '-1', '1.5', '9223372036854775808', '1e18', ' 1', '0x10']) {
      expect(thrown(() => assertExportTimestamp(bad)).message).toContain('is not Unix nanoseconds');
    }
  });
});
