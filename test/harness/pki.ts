// Certificates and keys for a test API server, made with the openssl CLI: a CA, a serving
// certificate whose SANs cover every address clients use (the namespace address and the
// loopback end of the bridge), and the service-account signing key.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from './exec.ts';

export interface ApiServerPki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  saKey: string;
  saPub: string;
  /** The CA certificate in PEM, for clients. */
  caPem: string;
}

export async function makeApiServerPki(
  dir: string,
  ipSans: string[],
  dnsSans: string[],
): Promise<ApiServerPki> {
  const p = (f: string) => join(dir, f);
  const openssl = (args: string[]) => exec(['openssl', ...args], { timeoutMs: 60_000 });
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('ca.key')]);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    p('ca.key'),
    '-subj',
    '/CN=moor-test-ca',
    '-days',
    '2',
    '-out',
    p('ca.crt'),
  ]);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('serving.key')]);
  await openssl([
    'req',
    '-new',
    '-key',
    p('serving.key'),
    '-subj',
    '/CN=kube-apiserver',
    '-out',
    p('serving.csr'),
  ]);
  const sans = [...ipSans.map((ip) => `IP:${ip}`), ...dnsSans.map((d) => `DNS:${d}`)].join(',');
  writeFileSync(
    p('serving.ext'),
    `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    p('serving.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    p('serving.ext'),
    '-out',
    p('serving.crt'),
  ]);
  // Service-account tokens are signed with RSA (RS256 is what the token controller uses).
  await openssl(['genrsa', '-out', p('sa.key'), '2048']);
  await openssl(['rsa', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')]);
  return {
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    servingCert: p('serving.crt'),
    servingKey: p('serving.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
    caPem: readFileSync(p('ca.crt'), 'utf8'),
  };
}
