// broker-info.subm codec (spec §1.1–1.2). The file is URL-safe base64 (with padding) of JSON
// written by Go, whose decoder matches keys case-insensitively; we read as leniently as Go and a
// little more (missing padding, standard alphabet, line breaks, already-decoded JSON), but
// validate every value we use and name the exact field when something is wrong.
import { MoorError } from '../errors.ts';
import { BROKER_ADMIN_SERVICE_ACCOUNT, IPSEC_PSK_SECRET_NAME } from './names.ts';

export const BROKER_INFO_FILE_NAME = 'broker-info.subm';
export const COMPONENT_CONNECTIVITY = 'connectivity';
export const COMPONENT_SERVICE_DISCOVERY = 'service-discovery';

export interface BrokerInfoFields {
  /** API server URL of the broker, as subctl wrote it (normally with https://). */
  brokerURL: string;
  /** PEM CA of the broker API server (ClientToken.data["ca.crt"]); undefined if absent. */
  caCrt: string | undefined;
  /** Broker namespace (ClientToken.data.namespace). */
  namespace: string;
  /** Broker admin bearer token (ClientToken.data.token). */
  token: string;
  /** Raw PSK bytes (IPSecPSK.data.psk decoded; subctl makes 48 random bytes). */
  ipsecPskBytes: Uint8Array;
  serviceDiscovery: boolean;
  components: string[];
  /** undefined when the file has `null` (deploy-broker without --custom-domains). */
  customDomains: string[] | undefined;
  clientTokenSecretName?: string | undefined;
}

export interface BrokerInfo extends BrokerInfoFields {
  /**
   * The PSK as text: standard base64 of `ipsecPskBytes`, i.e. IPSecPSK.data.psk exactly as subctl
   * writes it. This string (not the bytes) is what Submariner hashes: pass it to wireguardPsk().
   */
  ipsecPskString: string;
}

const MAX_FILE_LENGTH = 1 << 20;
const FIX_HINT = 're-create it with `subctl deploy-broker` or check that the whole file was copied';
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PRINTABLE_NO_SPACE = /^[\x21-\x7e]+$/;
const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

export function decodeBrokerInfo(file: string | Uint8Array): BrokerInfo {
  const text = (typeof file === 'string' ? file : Buffer.from(file).toString('latin1'))
    .replace(/^\uFEFF/, '')
    .trim();
  if (text.length === 0) fail('the file is empty');
  if (text.length > MAX_FILE_LENGTH) fail(`the file is larger than ${MAX_FILE_LENGTH} bytes`);
  // Someone who decoded the file to look at it may pass the JSON itself; that is unambiguous.
  const json = text.startsWith('{')
    ? text
    : utf8(decodeBase64(text) ?? fail('the file is not base64'), 'the file');
  let root: unknown;
  try {
    root = JSON.parse(json);
  } catch {
    fail('the decoded content is not JSON');
  }
  const info = asObject(root, 'the decoded content');
  const clientToken = asObject(field(info, 'ClientToken'), 'ClientToken');
  const clientData = asObject(field(clientToken, 'data'), 'ClientToken.data');
  const ipsecPsk = asObject(field(info, 'IPSecPSK'), 'IPSecPSK');
  const pskBytes = secretBytes(
    asObject(field(ipsecPsk, 'data'), 'IPSecPSK.data'),
    'psk',
    'IPSecPSK.data.psk',
  );
  const caCrt = optionalSecretText(clientData, 'ca.crt', 'ClientToken.data.ca.crt');
  const fields: BrokerInfoFields = {
    brokerURL: checkBrokerUrl(requiredString(info, 'brokerURL'), 'brokerURL'),
    caCrt: caCrt === undefined ? undefined : checkPem(caCrt, 'ClientToken.data.ca.crt'),
    namespace: checkNamespace(
      secretText(clientData, 'namespace', 'ClientToken.data.namespace'),
      'ClientToken.data.namespace',
    ),
    token: checkToken(secretText(clientData, 'token', 'ClientToken.data.token'), 'ClientToken.data.token'),
    ipsecPskBytes: pskBytes,
    serviceDiscovery: optionalBoolean(field(info, 'ServiceDiscovery'), 'ServiceDiscovery'),
    components: optionalStringArray(field(info, 'Components'), 'Components') ?? [],
    customDomains: optionalStringArray(field(info, 'CustomDomains'), 'CustomDomains'),
  };
  const metadata = field(clientToken, 'metadata');
  const secretName = isObject(metadata) ? field(metadata, 'name') : undefined;
  if (typeof secretName === 'string' && secretName !== '') fields.clientTokenSecretName = secretName;
  return { ...fields, ipsecPskString: Buffer.from(pskBytes).toString('base64') };
}

/**
 * Writes the file exactly like subctl: the Go field names as keys, Secret `data` values in
 * standard base64, the whole JSON in URL-safe base64 *with* padding (Go's URLEncoding), which
 * Node's 'base64url' leaves out.
 */
export function encodeBrokerInfo(info: BrokerInfoFields): string {
  checkBrokerUrl(info.brokerURL, 'brokerURL');
  checkNamespace(info.namespace, 'namespace');
  checkToken(info.token, 'token');
  if (info.caCrt !== undefined) checkPem(info.caCrt, 'caCrt');
  if (info.ipsecPskBytes.length === 0) fail('the IPsec PSK is empty');
  const b64 = (value: string | Uint8Array) => Buffer.from(value).toString('base64');
  const clientData: Record<string, string> = {};
  if (info.caCrt !== undefined) clientData['ca.crt'] = b64(info.caCrt);
  clientData.namespace = b64(info.namespace);
  clientData.token = b64(info.token);
  const document = {
    brokerURL: info.brokerURL,
    ClientToken: {
      metadata: {
        name: info.clientTokenSecretName ?? `${BROKER_ADMIN_SERVICE_ACCOUNT}-token`,
        namespace: info.namespace,
        creationTimestamp: null,
        annotations: { 'kubernetes.io/service-account.name': BROKER_ADMIN_SERVICE_ACCOUNT },
      },
      data: clientData,
      type: 'kubernetes.io/service-account-token',
    },
    IPSecPSK: {
      metadata: { name: IPSEC_PSK_SECRET_NAME, creationTimestamp: null },
      data: { psk: b64(info.ipsecPskBytes) },
    },
    ServiceDiscovery: info.serviceDiscovery,
    // Go's `json:",omitempty"` drops an empty Components list; CustomDomains is written as null.
    ...(info.components.length > 0 ? { Components: info.components } : {}),
    CustomDomains: info.customDomains ?? null,
  };
  const encoded = Buffer.from(JSON.stringify(document), 'utf8').toString('base64url');
  return encoded + '='.repeat((4 - (encoded.length % 4)) % 4);
}

export function isConnectivityEnabled(info: BrokerInfoFields): boolean {
  return info.components.includes(COMPONENT_CONNECTIVITY);
}

export function isServiceDiscoveryEnabled(info: BrokerInfoFields): boolean {
  return info.serviceDiscovery || info.components.includes(COMPONENT_SERVICE_DISCOVERY);
}

/** The broker URL with a scheme: `--broker-url` may be given as host:port, which means https. */
export function brokerServerUrl(brokerURL: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(brokerURL) ? brokerURL : `https://${brokerURL}`;
}

/** Base64 in either alphabet, padding optional, whitespace ignored; undefined when malformed. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  const unpadded = compact.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9+/_-]*$/.test(unpadded) || unpadded.length % 4 === 1) return undefined;
  if (compact.length !== unpadded.length && compact.length % 4 !== 0) return undefined;
  return new Uint8Array(Buffer.from(unpadded.replaceAll('-', '+').replaceAll('_', '/'), 'base64'));
}

function fail(problem: string): never {
  throw new MoorError('invalid-input', `broker-info: ${problem}`, { hint: FIX_HINT });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go's decoder semantics: an exact key wins, otherwise the first case-insensitive match. */
function field(object: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(object, key)) return object[key];
  const lower = key.toLowerCase();
  const match = Object.keys(object).find((k) => k.toLowerCase() === lower);
  return match === undefined ? undefined : object[match];
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (value === undefined || value === null) fail(`${path} is missing`);
  if (!isObject(value)) fail(`${path} must be an object`);
  return value;
}

function requiredString(object: Record<string, unknown>, key: string): string {
  const value = field(object, key);
  if (value === undefined || value === null || value === '') fail(`${key} is missing`);
  if (typeof value !== 'string') fail(`${key} must be a string`);
  return value;
}

function optionalBoolean(value: unknown, path: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') fail(`${path} must be true or false`);
  return value;
}

function optionalStringArray(value: unknown, path: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) fail(`${path} must be a list of strings`);
  return value.map((item: unknown, i) =>
    typeof item === 'string' ? item : fail(`${path}[${i}] must be a string`),
  );
}

function secretBytes(data: Record<string, unknown>, key: string, path: string): Uint8Array {
  const value = field(data, key);
  if (value === undefined || value === null || value === '') fail(`${path} is missing`);
  if (typeof value !== 'string') fail(`${path} must be a base64 string`);
  const bytes = decodeBase64(value) ?? fail(`${path} is not valid base64`);
  if (bytes.length === 0) fail(`${path} is empty`);
  return bytes;
}

function secretText(data: Record<string, unknown>, key: string, path: string): string {
  return utf8(secretBytes(data, key, path), path);
}

function optionalSecretText(data: Record<string, unknown>, key: string, path: string): string | undefined {
  const value = field(data, key);
  return value === undefined || value === null || value === '' ? undefined : secretText(data, key, path);
}

function utf8(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail(`${path} is not UTF-8 text`);
  }
}

function checkBrokerUrl(value: string, path: string): string {
  if (value === '') fail(`${path} is missing`);
  let url: URL;
  try {
    url = new URL(brokerServerUrl(value));
  } catch {
    fail(`${path} ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`${path} must use https://`);
  if (!PRINTABLE_NO_SPACE.test(value)) fail(`${path} contains spaces or control characters`);
  return value;
}

function checkNamespace(value: string, path: string): string {
  if (value.length > 63 || !DNS1123_LABEL.test(value))
    fail(`${path} ${JSON.stringify(value)} is not a namespace name`);
  return value;
}

function checkToken(value: string, path: string): string {
  // The token goes into an Authorization header; stray newlines would break or inject headers.
  if (!PRINTABLE_NO_SPACE.test(value)) fail(`${path} contains spaces or control characters`);
  return value;
}

function checkPem(value: string, path: string): string {
  if (!value.includes(PEM_CERTIFICATE)) fail(`${path} is not a PEM certificate`);
  return value;
}
