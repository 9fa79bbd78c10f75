// WireGuard keys as Submariner uses them (spec §3.1). The WireGuard preshared key is not the
// broker PSK itself but SHA-256 of its text: the gateway hashes CE_IPSEC_PSK, which subctl sets to
// the base64 string found in broker-info `IPSecPSK.data.psk`. So we hash that text, not its bytes.
import { createHash } from 'node:crypto';
import { MoorError } from '../errors.ts';

/** The PSK older gateways fall back to; Aug-2026 WireGuard drivers refuse it, and so do we. */
export const SUBMARINER_DEFAULT_PSK = 'default psk';

const WIREGUARD_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** base64(sha256(utf8(pskString))): the PresharedKey for every peer of the clusterset. */
export function wireguardPsk(pskString: string): string {
  if (pskString.trim().length === 0) {
    throw new MoorError('invalid-input', 'the clusterset PSK is empty', {
      hint: 'use the broker-info.subm written by `subctl deploy-broker`; its IPSecPSK.data.psk holds the PSK',
    });
  }
  if (pskString === SUBMARINER_DEFAULT_PSK) {
    throw new MoorError(
      'invalid-input',
      `the clusterset PSK is Submariner's placeholder "${SUBMARINER_DEFAULT_PSK}"`,
      {
        hint: 'that value is public; deploy the broker with subctl so a random PSK is generated, and join with it',
      },
    );
  }
  return createHash('sha256').update(pskString, 'utf8').digest('base64');
}

/**
 * True for a WireGuard key in its usual text form: standard base64 of exactly 32 bytes (44
 * characters ending in one '='). The character class before '=' rejects encodings whose unused
 * low bits are set, which decoders would silently drop.
 */
export function isWireguardKey(text: unknown): text is string {
  return typeof text === 'string' && WIREGUARD_KEY.test(text);
}
