// Removing secrets from text that leaves the host (the `moor diagnose` bundle). Two layers: every
// known secret value (and the encodings it travels in) is replaced wherever it appears, and
// patterns that look like secrets (JWTs, bearer tokens, PEM private keys, `private key:` lines)
// are replaced even when the value is not known.
import { wireguardPsk } from '../broker/psk.ts';
import type { HostState } from './state.ts';

export interface Secret {
  /** What it is, shown in its place: [REDACTED broker token]. */
  name: string;
  value: string;
}

const PATTERNS: [RegExp, string][] = [
  [/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[REDACTED jwt]'],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[REDACTED bearer token]'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[REDACTED private key]'],
  [/((?:private|preshared)[ _]key\s*[:=]\s*)(?!\(hidden\)|\[REDACTED)[A-Za-z0-9+/=]{16,}/gi, '$1[REDACTED]'],
];

export class Redactor {
  readonly #secrets: Secret[];
  #count = 0;

  constructor(secrets: readonly Secret[]) {
    // Longest first, so a secret that contains another is replaced whole. Very short values
    // would replace ordinary text, and are not real secrets anyway.
    this.#secrets = secrets
      .filter((s) => s.value.length >= 8)
      .sort((a, b) => b.value.length - a.value.length);
  }

  /** How many replacements were made so far. */
  get count(): number {
    return this.#count;
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.#secrets) {
      const parts = out.split(s.value);
      this.#count += parts.length - 1;
      out = parts.join(`[REDACTED ${s.name}]`);
    }
    for (const [pattern, replacement] of PATTERNS) {
      out = out.replace(pattern, (...m) => {
        this.#count++;
        return replacement.replace('$1', String(m[1] ?? ''));
      });
    }
    return out;
  }
}

/** A value with the encodings it may appear in: as is, base64 ↔ hex (WireGuard's UAPI uses hex). */
function encodings(name: string, value: string): Secret[] {
  const out: Secret[] = [{ name, value }];
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) {
    const hex = Buffer.from(value, 'base64').toString('hex');
    if (hex.length >= 16) out.push({ name, value: hex });
  }
  out.push({ name, value: Buffer.from(value, 'utf8').toString('base64').replace(/=+$/, '') });
  return out;
}

/** Every secret of a joined host: member token, PSK (and the WireGuard PSK from it), private key, CA. */
export function hostSecrets(state: HostState | undefined, privateKey: string | undefined): Secret[] {
  const out: Secret[] = [];
  if (privateKey) out.push(...encodings('wireguard private key', privateKey));
  if (state) {
    if (state.broker.token) out.push(...encodings('broker token', state.broker.token));
    if (state.psk) {
      out.push(...encodings('clusterset psk', state.psk));
      try {
        out.push(...encodings('wireguard preshared key', wireguardPsk(state.psk)));
      } catch {
        // an unusable PSK (empty, Submariner's placeholder) was never programmed
      }
    }
    // The CA certificate is not secret, but it is broker-info content: leave it out, line by line.
    for (const line of state.broker.caPem.split('\n'))
      if (line.length >= 16 && !line.startsWith('-----')) out.push({ name: 'broker CA', value: line.trim() });
  }
  return out;
}

/** state.json as the bundle shows it: the structure, with the secret fields replaced. */
export function redactedState(state: HostState): Record<string, unknown> {
  const mark = (v: string) => (v ? `[REDACTED, ${v.length} characters]` : '');
  return {
    ...state,
    psk: mark(state.psk),
    broker: { ...state.broker, token: mark(state.broker.token), caPem: mark(state.broker.caPem) },
  };
}
