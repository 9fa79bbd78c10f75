// The Redactor: known secret values in every encoding they travel in, and secret-looking patterns.
import { describe, expect, it } from 'vitest';
import { wireguardPsk } from '../broker/psk.ts';
import { hostSecrets, Redactor, redactedState } from './redact.ts';
import type { HostState } from './state.ts';

const PRIVATE_KEY = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const state = {
  broker: {
    token: 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ',
    caPem:
      '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUtYm9keQ\n-----END CERTIFICATE-----\n',
    server: 'https://10.0.0.1:6443',
    namespace: 'ns',
    insecure: false,
  },
  psk: 'c2VjcmV0LXBzay1zdHJpbmctZnJvbS1icm9rZXItaW5mbw==',
} as unknown as HostState;

describe('Redactor', () => {
  const r = () => new Redactor(hostSecrets(state, PRIVATE_KEY));

  it('replaces every known secret, also as hex and base64', () => {
    const wgPsk = wireguardPsk(state.psk);
    const text = [
      `token ${state.broker.token}`,
      `psk ${state.psk}`,
      `wg psk ${wgPsk} hex ${Buffer.from(wgPsk, 'base64').toString('hex')}`,
      `private_key=${Buffer.from(PRIVATE_KEY, 'base64').toString('hex')}`,
      `key ${PRIVATE_KEY}`,
      `b64 token ${Buffer.from(state.broker.token).toString('base64')}`,
      'ca MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUtYm9keQ',
    ].join('\n');
    const redactor = r();
    const out = redactor.scrub(text);
    for (const s of hostSecrets(state, PRIVATE_KEY)) expect(out).not.toContain(s.value);
    expect(out).toContain('token [REDACTED broker token]');
    expect(out).toContain('key [REDACTED wireguard private key]');
    expect(redactor.count).toBeGreaterThanOrEqual(8);
  });

  it('replaces secret-looking text it was not told about', () => {
    const out = new Redactor([]).scrub(
      [
        'Authorization: Bearer abcdefghijklmnop1234',
        'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4eHh4eHgifQ.c2lnbmF0dXJl',
        'private key: yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=',
        'preshared key: (hidden)',
        '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----',
      ].join('\n'),
    );
    expect(out).toBe(
      [
        'Authorization: Bearer [REDACTED bearer token]',
        '[REDACTED jwt]',
        'private key: [REDACTED]',
        'preshared key: (hidden)',
        '[REDACTED private key]',
      ].join('\n'),
    );
  });

  it('leaves ordinary text alone', () => {
    const text =
      'interface: moor0\n  public key: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n  listening port: 4500\n';
    expect(r().scrub(text)).toBe(text);
  });

  it('redactedState keeps the structure and drops the values', () => {
    const shown = redactedState(state);
    expect(JSON.stringify(shown)).not.toContain(state.broker.token);
    expect(JSON.stringify(shown)).not.toContain(state.psk);
    expect(shown.broker).toMatchObject({
      server: 'https://10.0.0.1:6443',
      token: `[REDACTED, ${state.broker.token.length} characters]`,
    });
  });
});
