import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import {
  type BrokerInfoFields,
  brokerServerUrl,
  decodeBase64,
  decodeBrokerInfo,
  encodeBrokerInfo,
  isConnectivityEnabled,
  isServiceDiscoveryEnabled,
} from './brokerInfo.ts';
import { wireguardPsk } from './psk.ts';

const FAKE_CA = '-----BEGIN CERTIFICATE-----\nRkFLRS1DQS1GT1ItVEVTVFMtT05MWQ==\n-----END CERTIFICATE-----\n';
const PSK_BYTES = Uint8Array.from({ length: 48 }, (_, i) => (i * 37 + 11) & 255);

function sampleFields(overrides: Partial<BrokerInfoFields> = {}): BrokerInfoFields {
  return {
    brokerURL: 'https://broker.example.test:6443',
    caCrt: FAKE_CA,
    namespace: 'submariner-k8s-broker',
    token: 'FAKE-TOKEN.for-tests-only.not-a-secret',
    ipsecPskBytes: PSK_BYTES,
    serviceDiscovery: true,
    components: ['connectivity', 'service-discovery'],
    customDomains: undefined,
    clientTokenSecretName: 'submariner-k8s-broker-admin-token-fake1',
    ...overrides,
  };
}

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');

/** The JSON document subctl would write, as a plain object we can damage in tests. */
function subctlDocument(): Record<string, unknown> {
  return {
    brokerURL: 'https://10.138.0.11:45681',
    ClientToken: {
      metadata: { name: 'submariner-k8s-broker-admin-token-x7k2q', namespace: 'submariner-k8s-broker' },
      data: { 'ca.crt': b64(FAKE_CA), namespace: b64('submariner-k8s-broker'), token: b64('FAKE.TOKEN.x') },
      type: 'kubernetes.io/service-account-token',
    },
    IPSecPSK: {
      metadata: { name: 'submariner-ipsec-psk', creationTimestamp: null },
      data: { psk: b64(PSK_BYTES) },
    },
    ServiceDiscovery: true,
    Components: ['connectivity', 'service-discovery'],
    CustomDomains: null,
  };
}

function goEncode(document: unknown): string {
  const url = Buffer.from(JSON.stringify(document)).toString('base64url');
  return url + '='.repeat((4 - (url.length % 4)) % 4);
}

function brokerInfoError(file: string): MoorError {
  try {
    decodeBrokerInfo(file);
  } catch (err) {
    if (err instanceof MoorError) return err;
    throw err;
  }
  throw new Error('expected decodeBrokerInfo to throw');
}

describe('decodeBrokerInfo', () => {
  it('reads what subctl writes', () => {
    const info = decodeBrokerInfo(goEncode(subctlDocument()));
    expect(info).toEqual({
      brokerURL: 'https://10.138.0.11:45681',
      caCrt: FAKE_CA,
      namespace: 'submariner-k8s-broker',
      token: 'FAKE.TOKEN.x',
      ipsecPskBytes: PSK_BYTES,
      ipsecPskString: b64(PSK_BYTES),
      serviceDiscovery: true,
      components: ['connectivity', 'service-discovery'],
      customDomains: undefined,
      clientTokenSecretName: 'submariner-k8s-broker-admin-token-x7k2q',
    });
    expect(isConnectivityEnabled(info)).toBe(true);
    expect(isServiceDiscoveryEnabled(info)).toBe(true);
  });

  it('keeps the PSK text exactly as in IPSecPSK.data.psk, which is what gets hashed', () => {
    const document = subctlDocument();
    const info = decodeBrokerInfo(goEncode(document));
    const pskText = ((document.IPSecPSK as Record<string, unknown>).data as Record<string, string>).psk;
    expect(info.ipsecPskString).toBe(pskText);
    expect(info.ipsecPskBytes).toHaveLength(48);
    expect(wireguardPsk(info.ipsecPskString)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('tolerates missing padding, the standard alphabet, line breaks and a BOM', () => {
    const padded = goEncode(subctlDocument());
    const expected = decodeBrokerInfo(padded);
    const unpadded = padded.replace(/=+$/, '');
    const standard = Buffer.from(JSON.stringify(subctlDocument())).toString('base64');
    const wrapped = `${padded.match(/.{1,76}/g)?.join('\r\n')}\r\n`;
    for (const variant of [unpadded, standard, wrapped, `\uFEFF${padded}`, `  ${padded}\n`]) {
      expect(decodeBrokerInfo(variant)).toEqual(expected);
    }
    expect(decodeBrokerInfo(Buffer.from(padded))).toEqual(expected);
  });

  it('accepts the already-decoded JSON', () => {
    expect(decodeBrokerInfo(JSON.stringify(subctlDocument()))).toEqual(
      decodeBrokerInfo(goEncode(subctlDocument())),
    );
  });

  it('matches keys case-insensitively at every level, preferring an exact match', () => {
    const json = JSON.stringify(subctlDocument())
      .replace('"ClientToken"', '"clientToken"')
      .replace('"IPSecPSK"', '"ipsecpsk"')
      .replace('"brokerURL"', '"BrokerUrl"')
      .replace('"data":{"ca.crt"', '"DATA":{"CA.CRT"')
      .replace('"token":', '"Token":')
      .replace('"Components"', '"components"');
    const info = decodeBrokerInfo(goEncode(JSON.parse(json)));
    expect(info.token).toBe('FAKE.TOKEN.x');
    expect(info.caCrt).toBe(FAKE_CA);
    expect(info.brokerURL).toBe('https://10.138.0.11:45681');
    expect(info.components).toEqual(['connectivity', 'service-discovery']);

    const both = {
      ...subctlDocument(),
      brokerurl: 'https://wrong.example:1',
      brokerURL: 'https://right.example:1',
    };
    expect(decodeBrokerInfo(goEncode(both)).brokerURL).toBe('https://right.example:1');
  });

  it('defaults optional fields and treats an absent CA as undefined', () => {
    const document = subctlDocument();
    delete document.ServiceDiscovery;
    delete document.Components;
    document.CustomDomains = ['example.internal'];
    delete ((document.ClientToken as Record<string, unknown>).data as Record<string, unknown>)['ca.crt'];
    const info = decodeBrokerInfo(goEncode(document));
    expect(info.serviceDiscovery).toBe(false);
    expect(info.components).toEqual([]);
    expect(info.customDomains).toEqual(['example.internal']);
    expect(info.caCrt).toBeUndefined();
    expect(isConnectivityEnabled(info)).toBe(false);
    expect(isServiceDiscoveryEnabled(info)).toBe(false);
  });

  type Damage = (d: Record<string, unknown>) => void;
  const clientData = (d: Record<string, unknown>) =>
    (d.ClientToken as Record<string, unknown>).data as Record<string, unknown>;
  const cases: Array<[string, Damage]> = [
    ['brokerURL is missing', (d) => delete d.brokerURL],
    ['brokerURL must be a string', (d) => (d.brokerURL = 42)],
    ['brokerURL must use https://', (d) => (d.brokerURL = 'ftp://x')],
    ['brokerURL "https://a b" is not a URL', (d) => (d.brokerURL = 'https://a b')],
    ['ClientToken is missing', (d) => delete d.ClientToken],
    ['ClientToken must be an object', (d) => (d.ClientToken = 'x')],
    ['ClientToken.data is missing', (d) => delete (d.ClientToken as Record<string, unknown>).data],
    ['ClientToken.data.token is missing', (d) => delete clientData(d).token],
    ['ClientToken.data.token is missing', (d) => (clientData(d).token = '')],
    ['ClientToken.data.token must be a base64 string', (d) => (clientData(d).token = ['x'])],
    ['ClientToken.data.token is not valid base64', (d) => (clientData(d).token = 'a$b')],
    [
      'ClientToken.data.token contains spaces or control characters',
      (d) => (clientData(d).token = b64('tok\n')),
    ],
    [
      'ClientToken.data.token is not UTF-8 text',
      (d) => (clientData(d).token = b64(Uint8Array.of(0xff, 0xfe))),
    ],
    ['ClientToken.data.namespace is missing', (d) => delete clientData(d).namespace],
    [
      'ClientToken.data.namespace "Bad_NS" is not a namespace name',
      (d) => (clientData(d).namespace = b64('Bad_NS')),
    ],
    ['ClientToken.data.ca.crt is not a PEM certificate', (d) => (clientData(d)['ca.crt'] = b64('hello'))],
    ['IPSecPSK is missing', (d) => delete d.IPSecPSK],
    ['IPSecPSK.data is missing', (d) => (d.IPSecPSK = { metadata: {} })],
    ['IPSecPSK.data.psk is missing', (d) => (d.IPSecPSK = { data: {} })],
    ['IPSecPSK.data.psk is not valid base64', (d) => (d.IPSecPSK = { data: { psk: 'abcde' } })],
    ['ServiceDiscovery must be true or false', (d) => (d.ServiceDiscovery = 'yes')],
    ['Components must be a list of strings', (d) => (d.Components = 'connectivity')],
    ['Components[1] must be a string', (d) => (d.Components = ['connectivity', 7])],
    ['CustomDomains[0] must be a string', (d) => (d.CustomDomains = [null])],
  ];
  it.each(cases)('names the bad field: %s', (message, damage) => {
    const document = subctlDocument();
    damage(document);
    const err = brokerInfoError(goEncode(document));
    expect(err.message).toBe(`broker-info: ${message}`);
    expect(err.code).toBe('invalid-input');
    expect(err.hint).toBe('re-create it with `subctl deploy-broker` or check that the whole file was copied');
  });

  it.each([
    ['', 'broker-info: the file is empty'],
    ['not base64!', 'broker-info: the file is not base64'],
    [Buffer.from('hello').toString('base64url'), 'broker-info: the decoded content is not JSON'],
    [goEncode([1, 2]), 'broker-info: the decoded content must be an object'],
    [goEncode(null), 'broker-info: the decoded content is missing'],
    [goEncode(subctlDocument()).slice(0, 101), 'broker-info: the file is not base64'],
    [goEncode(subctlDocument()).slice(0, 100), 'broker-info: the decoded content is not JSON'],
    ['{"brokerURL": ', 'broker-info: the decoded content is not JSON'],
  ])('rejects damaged files: %#', (file, message) => {
    expect(brokerInfoError(file).message).toBe(message);
  });

  it('never throws anything but MoorError on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.base64String(),
          fc.json().map((j) => goEncode(JSON.parse(j))),
        ),
        (file) => {
          try {
            decodeBrokerInfo(file);
          } catch (err) {
            expect(err).toBeInstanceOf(MoorError);
          }
        },
      ),
    );
  });
});

describe('encodeBrokerInfo', () => {
  it('writes URL-safe base64 with padding and the exact subctl keys', () => {
    const file = encodeBrokerInfo(sampleFields());
    expect(file.length % 4).toBe(0);
    expect(file).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
    const document = JSON.parse(Buffer.from(file, 'base64url').toString('utf8'));
    expect(Object.keys(document)).toEqual([
      'brokerURL',
      'ClientToken',
      'IPSecPSK',
      'ServiceDiscovery',
      'Components',
      'CustomDomains',
    ]);
    expect(document.CustomDomains).toBeNull();
    expect(Object.keys(document.ClientToken.data)).toEqual(['ca.crt', 'namespace', 'token']);
    expect(document.IPSecPSK).toEqual({
      metadata: { name: 'submariner-ipsec-psk', creationTimestamp: null },
      data: { psk: b64(PSK_BYTES) },
    });
    expect(document.ClientToken.type).toBe('kubernetes.io/service-account-token');
  });

  it('omits an empty Components list like Go omitempty', () => {
    const file = encodeBrokerInfo(sampleFields({ components: [], serviceDiscovery: false }));
    const document = JSON.parse(Buffer.from(file, 'base64url').toString('utf8'));
    expect('Components' in document).toBe(false);
  });

  it('round-trips', () => {
    const arbFields = fc.record({
      brokerURL: fc.constantFrom('https://10.0.0.1:6443', 'broker.example:443', 'http://127.0.0.1:8080/api'),
      caCrt: fc.option(
        fc.string().map((s) => `${FAKE_CA}${s}`),
        { nil: undefined },
      ),
      namespace: fc.constantFrom('submariner-k8s-broker', 'b', 'broker-2'),
      token: fc.stringMatching(/^[\x21-\x7e]{1,200}$/),
      ipsecPskBytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
      serviceDiscovery: fc.boolean(),
      components: fc.array(fc.constantFrom('connectivity', 'service-discovery')),
      customDomains: fc.option(fc.array(fc.domain()), { nil: undefined }),
      clientTokenSecretName: fc.constantFrom('submariner-k8s-broker-admin-token-abcde', 'other'),
    });
    fc.assert(
      fc.property(arbFields, (fields) => {
        const decoded = decodeBrokerInfo(encodeBrokerInfo(fields));
        expect(decoded).toEqual({ ...fields, ipsecPskString: b64(fields.ipsecPskBytes) });
      }),
    );
  });

  it('refuses values it could not read back', () => {
    expect(() => encodeBrokerInfo(sampleFields({ token: 'a b' }))).toThrow(/token contains spaces/);
    expect(() => encodeBrokerInfo(sampleFields({ namespace: 'NS' }))).toThrow(/not a namespace name/);
    expect(() => encodeBrokerInfo(sampleFields({ ipsecPskBytes: new Uint8Array() }))).toThrow(/PSK is empty/);
    expect(() => encodeBrokerInfo(sampleFields({ brokerURL: '' }))).toThrow(/brokerURL is missing/);
  });
});

describe('helpers', () => {
  it('adds https:// to a scheme-less broker URL', () => {
    expect(brokerServerUrl('10.0.0.1:6443')).toBe('https://10.0.0.1:6443');
    expect(brokerServerUrl('https://10.0.0.1:6443')).toBe('https://10.0.0.1:6443');
  });

  it('decodes base64 in both alphabets and refuses junk', () => {
    expect(decodeBase64('-_8=')).toEqual(Uint8Array.of(0xfb, 0xff));
    expect(decodeBase64('+/8')).toEqual(Uint8Array.of(0xfb, 0xff));
    expect(decodeBase64('+/8\r\n=')).toEqual(Uint8Array.of(0xfb, 0xff));
    expect(decodeBase64('abcde')).toBeUndefined();
    expect(decodeBase64('ab=')).toBeUndefined();
    expect(decodeBase64('a=bc')).toBeUndefined();
  });
});

describe('sample fixture', () => {
  const fixture = readFileSync(
    new URL('../../test/fixtures/broker-info.sample.subm', import.meta.url),
    'utf8',
  );

  it('reads the committed sample', () => {
    const info = decodeBrokerInfo(fixture);
    expect(info.brokerURL).toBe('https://broker.example.test:6443');
    expect(info.namespace).toBe('submariner-k8s-broker');
    expect(info.token).toBe('FAKE-TOKEN.for-tests-only.not-a-secret');
    expect(info.caCrt).toBe(FAKE_CA);
    expect(info.ipsecPskBytes).toEqual(PSK_BYTES);
    expect(info.components).toEqual(['connectivity', 'service-discovery']);
  });

  it('is exactly what the writer produces today', () => {
    expect(fixture.trimEnd()).toBe(encodeBrokerInfo(sampleFields()));
  });
});
