import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { skipOutsideCi } from '../../testing-ci.ts';
import { ExecRunner } from '../exec.ts';
import {
  generateKeyPair,
  generatePresharedKey,
  generatePrivateKey,
  isWireGuardKey,
  publicKeyOf,
} from './keys.ts';

const hexToB64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

describe('WireGuard keys with node:crypto', () => {
  test('RFC 7748 §6.1 test vector', () => {
    const alicePrivate = hexToB64('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const alicePublic = hexToB64('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(publicKeyOf(alicePrivate)).toBe(alicePublic);
  });

  test('generated keys are well-formed and clamped', () => {
    for (let i = 0; i < 20; i++) {
      const { privateKey, publicKey } = generateKeyPair();
      expect(isWireGuardKey(privateKey) && isWireGuardKey(publicKey)).toBe(true);
      const raw = Buffer.from(privateKey, 'base64');
      expect((raw[0] ?? 0) & 7).toBe(0);
      expect((raw[31] ?? 0) & 0xc0).toBe(0x40);
      expect(publicKeyOf(privateKey)).toBe(publicKey);
    }
    expect(isWireGuardKey(generatePrivateKey())).toBe(true);
    expect(isWireGuardKey(generatePresharedKey())).toBe(true);
  });

  test('rejects malformed keys', () => {
    expect(isWireGuardKey('abc')).toBe(false);
    expect(isWireGuardKey(`${'A'.repeat(42)}B=`)).toBe(false); // stray low bits
    expect(() => publicKeyOf('not a key')).toThrow(/not a WireGuard key/);
  });

  test.skipIf(skipOutsideCi(!existsSync('/usr/bin/wg')))(
    'matches `wg pubkey` for the same private key',
    async () => {
      const runner = new ExecRunner();
      for (const privateKey of [
        generateKeyPair().privateKey,
        (await runner.run(['wg', 'genkey'])).stdout.trim(),
      ]) {
        const { stdout } = await runner.run(['wg', 'pubkey'], { input: `${privateKey}\n` });
        expect(publicKeyOf(privateKey)).toBe(stdout.trim());
      }
    },
  );
});
