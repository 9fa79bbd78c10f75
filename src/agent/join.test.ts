// `moor join` refuses special-purpose and malformed addresses before it touches anything: no
// command runs (the strict runner has no expectations), no broker request is made (the broker URL
// points nowhere), and no state directory appears.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BrokerInfo } from '../broker/brokerInfo.ts';
import { FakeHostNetwork, ScriptedRunner } from '../dataplane/fakes.ts';
import { MoorError } from '../errors.ts';
import { type JoinRequest, join } from './join.ts';

const brokerInfo: BrokerInfo = {
  brokerURL: 'https://127.0.0.1:1',
  caCrt: undefined,
  namespace: 'submariner-k8s-broker',
  token: 'admin-token',
  ipsecPskBytes: new Uint8Array(48).fill(7),
  ipsecPskString: Buffer.alloc(48, 7).toString('base64'),
  serviceDiscovery: true,
  components: ['service-discovery', 'connectivity'],
  customDomains: undefined,
};

function request(o: Partial<JoinRequest>): JoinRequest {
  return {
    brokerInfo,
    clusterId: 'vm1',
    addresses: [],
    pool: '100.70.0.0/16',
    privateIp: '192.168.77.2',
    port: 4500,
    interfaceName: 'moor0',
    checkBrokerCertificate: true,
    stateDir: joinPath(mkdtempSync(joinPath(tmpdir(), 'moor-join-')), 'state'),
    ...o,
  };
}

async function refusal(o: Partial<JoinRequest>): Promise<{ error: MoorError; stateDir: string }> {
  const req = request(o);
  const runner = new ScriptedRunner();
  const error = await join(req, { runner, log: () => {} }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(MoorError);
  expect(runner.calls).toEqual([]);
  expect(existsSync(req.stateDir)).toBe(false);
  return { error: error as MoorError, stateDir: req.stateDir };
}

describe('moor join: addresses', () => {
  it.each([
    ['loopback', '127.0.0.1', 'the loopback block 127.0.0.0/8 (RFC 1122)'],
    ['unspecified', '0.0.0.0', 'the "this network" block 0.0.0.0/8 (RFC 791)'],
    ['link-local', '169.254.10.1', 'the link-local block 169.254.0.0/16 (RFC 3927)'],
    ['multicast', '239.255.0.1', 'the multicast block 224.0.0.0/4 (RFC 5771)'],
    ['broadcast', '255.255.255.255', 'the limited broadcast block 255.255.255.255/32 (RFC 919)'],
    ['IETF protocol', '192.0.0.9', 'the IETF protocol assignments block 192.0.0.0/24 (RFC 6890)'],
  ])('refuses a %s --address with a message naming it and why', async (_kind, address, block) => {
    const { error } = await refusal({ addresses: ['100.70.0.10', address] });
    expect(error.code).toBe('invalid-argument');
    expect(error.message).toBe(`--address ${address} is in ${block}, never a host's address`);
    expect(error.hint).toMatch(/unicast IPv4 address/);
  });

  it('refuses a malformed --address', async () => {
    const { error } = await refusal({ addresses: ['100.70.0'] });
    expect(error.message).toMatch(/^--address "100\.70\.0" is not an IPv4 address/);
  });

  it.each([
    ['--private-ip', { privateIp: '127.0.1.1' }, /^--private-ip 127\.0\.1\.1 is in the loopback block/],
    ['--public-ip', { publicIp: '224.0.0.1' }, /^--public-ip 224\.0\.0\.1 is in the multicast block/],
    ['--pool', { pool: '169.254.0.0/16' }, /^--pool 169\.254\.0\.0\/16 is inside the link-local block/],
    ['a /0 --pool', { pool: '0.0.0.0/0' }, /^--pool 0\.0\.0\.0\/0 covers the "this network" block/],
  ])('refuses a special-purpose %s', async (_what, o, message) => {
    const { error } = await refusal(o);
    expect(error.message).toMatch(message);
  });

  it('refuses a detected private IP that is special-purpose', async () => {
    const req = request({});
    delete req.privateIp;
    const runner = new ScriptedRunner().expect(['ip', '-j', 'route', 'get', '8.8.8.8'], {
      stdout: JSON.stringify([{ dst: '8.8.8.8', dev: 'lo', prefsrc: '127.0.0.1' }]),
    });
    await expect(join(req, { runner, log: () => {} })).rejects.toThrow(
      /^the detected private IP 127\.0\.0\.1 is in the loopback block/,
    );
    expect(existsSync(req.stateDir)).toBe(false);
  });
});

describe('moor join: addresses this host needs', () => {
  // The broker is given by a name under .invalid, which never resolves for real: should join get
  // past its checks, it could not send anything anywhere.
  const info = { ...brokerInfo, brokerURL: 'https://broker.invalid:6443' };
  const hostNetwork = () => {
    const h = new FakeHostNetwork();
    h.names.set('broker.invalid', ['10.99.0.2']);
    h.gateways = ['192.168.77.1'];
    h.servers = ['10.99.0.53'];
    return h;
  };

  it.each([
    ['10.99.0.2', 'the broker API server'],
    ['192.168.77.1', "this host's default gateway"],
    ['10.99.0.53', "one of this host's nameservers"],
  ])('refuses --address %s: it is %s', async (address, why) => {
    const req = request({ brokerInfo: info, addresses: [address] });
    const error = await join(req, {
      runner: new ScriptedRunner(),
      log: () => {},
      hostNetwork: hostNetwork(),
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(MoorError);
    expect((error as MoorError).message).toBe(`--address ${address} is ${why}`);
    expect((error as MoorError).hint).toMatch(/members route the clusterset address through their tunnel/);
    expect(existsSync(req.stateDir)).toBe(false);
  });
});
