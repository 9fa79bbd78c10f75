import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import {
  assertValidClusterId,
  CABLE_NAME_MAX_LENGTH,
  CLUSTER_ID_LABEL,
  cableName,
  cableNameProblem,
  clusterIdProblem,
  clusterObjectName,
  endpointName,
  ensureValidName,
  roleBindingName,
  serviceAccountName,
  serviceAccountTokenPrefix,
  suggestClusterId,
} from './names.ts';

describe('ensureValidName', () => {
  it.each([
    ['east', 'east'],
    ['East_Cluster', 'east-cluster'],
    ['-east-', 'east'],
    ['__a__', 'a'],
    ['a.b-c', 'a.b-c'],
    ['a/b:c', 'a-b-c'],
    ['Zürich', 'z-rich'],
    ['😀x', 'x'],
    ['---', ''],
  ])('%j → %j', (input, output) => {
    expect(ensureValidName(input)).toBe(output);
  });
});

describe('cluster IDs', () => {
  it.each(['a', 'east', 'vm-db-1', '0', 'a'.repeat(63)])('accepts %j', (id) => {
    expect(clusterIdProblem(id)).toBeUndefined();
    expect(() => assertValidClusterId(id)).not.toThrow();
  });

  it.each([
    ['', 'the cluster ID is empty'],
    [
      'East',
      'use only lower-case letters, digits and \'-\', and start and end with a letter or digit (for example "east")',
    ],
    ['-east', '(for example "0east")'],
    ['east-', '(for example "east0")'],
    ['my_cluster', '(for example "my-cluster")'],
    ['a.b', '(for example "a-b")'],
    ['a'.repeat(64), 'it has 64 characters; at most 63 are allowed'],
  ])('rejects %j', (id, message) => {
    expect(clusterIdProblem(id)).toContain(message);
  });

  it('throws invalid-argument with a hint', () => {
    expect(() => assertValidClusterId('Bad ID')).toThrow(MoorError);
    try {
      assertValidClusterId('Bad ID');
    } catch (err) {
      expect((err as MoorError).code).toBe('invalid-argument');
      expect((err as MoorError).message).toBe(
        'cluster ID "Bad ID" is not a valid DNS-1123 label: use only lower-case letters, digits and \'-\', and start and end with a letter or digit (for example "bad-id")',
      );
      expect((err as MoorError).hint).toBeTruthy();
    }
  });

  it('suggests sanitised IDs like subctl does for context names', () => {
    expect(suggestClusterId('kind-East@Admin')).toBe('kind-east-admin');
    expect(suggestClusterId('-x-')).toBe('0x0');
    expect(suggestClusterId('$$$')).toBe('0');
    expect(suggestClusterId('')).toBeUndefined();
    expect(suggestClusterId('A'.repeat(80))).toBe('a'.repeat(63));
  });
});

describe('cable and object names', () => {
  it('forms cable and endpoint names like a real gateway', () => {
    const cable = cableName('east', '172.16.32.5');
    expect(cable).toBe('submariner-cable-east-172-16-32-5');
    expect(endpointName('east', cable)).toBe('east-submariner-cable-east-172-16-32-5');
  });

  it('refuses a private IP that is not IPv4', () => {
    expect(() => cableName('east', '172.16.32')).toThrow(/not an IPv4 address/);
    expect(() => cableName('east', 'fd00::1')).toThrow(/IPv6 is not supported yet/);
  });

  it('validates cable names per the Aug-2026 hardening', () => {
    expect(cableNameProblem('submariner-cable-east-10-0-0-1')).toBeUndefined();
    expect(cableNameProblem('a'.repeat(CABLE_NAME_MAX_LENGTH))).toBeUndefined();
    expect(cableNameProblem('a'.repeat(CABLE_NAME_MAX_LENGTH + 1))).toContain('at most 200');
    expect(cableNameProblem('')).toBe('cable name is empty');
    expect(cableNameProblem('x" leftsubnet=0.0.0.0/0')).toContain('characters other than');
    expect(cableNameProblem('a/b')).toContain('characters other than');
  });

  it('names cluster objects, service accounts and role bindings', () => {
    expect(clusterObjectName('East_1')).toBe('east-1');
    expect(serviceAccountName('east')).toBe('cluster-east');
    expect(roleBindingName('east')).toBe('cluster-east-submariner-k8s-broker-cluster');
    expect(serviceAccountTokenPrefix('east')).toBe('cluster-east-token-');
    expect(CLUSTER_ID_LABEL).toBe('submariner-io/clusterID');
  });
});
