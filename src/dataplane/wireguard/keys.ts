// WireGuard keys with node:crypto instead of spawning `wg genkey`/`wg pubkey`: no child process,
// and the private key never appears in argv or on disk. WireGuard keys are raw 32-byte X25519
// keys in standard base64; node exports X25519 keys as DER, whose last 32 bytes are the raw key.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { MoorError } from '../../errors.ts';

export interface WireGuardKeyPair {
  privateKey: string;
  publicKey: string;
}

// Standard base64 of 32 bytes; the last character class rejects encodings with stray low bits.
const KEY_TEXT = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

// DER prefix of a PKCS#8 X25519 private key (RFC 8410): SEQUENCE, version 0, OID 1.3.101.110,
// OCTET STRING { OCTET STRING (32 bytes) }.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export function isWireGuardKey(text: unknown): text is string {
  return typeof text === 'string' && KEY_TEXT.test(text);
}

export function assertWireGuardKey(text: unknown, what: string): asserts text is string {
  if (!isWireGuardKey(text)) {
    throw new MoorError('invalid-input', `${what} is not a WireGuard key (base64 of 32 bytes)`, {
      hint: 'keys look like "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="',
    });
  }
}

/** Clamp as curve25519 requires; `wg genkey` prints clamped keys, so we do too. */
function clamp(raw: Buffer): Buffer {
  const k = Buffer.from(raw);
  k[0] = (k[0] ?? 0) & 248;
  k[31] = ((k[31] ?? 0) & 127) | 64;
  return k;
}

export function generatePrivateKey(): string {
  return clamp(randomBytes(32)).toString('base64');
}

export function publicKeyOf(privateKey: string): string {
  assertWireGuardKey(privateKey, 'the private key');
  const der = Buffer.concat([PKCS8_X25519_PREFIX, Buffer.from(privateKey, 'base64')]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - 32).toString('base64');
}

export function generateKeyPair(): WireGuardKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const priv = clamp(der.subarray(der.length - 32)).toString('base64');
  return { privateKey: priv, publicKey: publicKeyOf(priv) };
}

/** A random preshared key (for tests and standalone use; the clusterset PSK is derived elsewhere). */
export function generatePresharedKey(): string {
  return randomBytes(32).toString('base64');
}
