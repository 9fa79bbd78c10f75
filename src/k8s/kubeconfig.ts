// Credentials for a cluster's own API server: a kubeconfig file (server, CA, bearer token), or
// the in-cluster service account when running as a pod.
import { parse } from 'yaml';
import { MoorError } from '../errors.ts';
import { readInputFile } from '../inputFile.ts';
import type { KubeRestOptions } from './rest.ts';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Named<T> = Array<{ name?: string } & T>;
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>;
  clusters?: Named<{
    cluster?: {
      server?: string;
      'certificate-authority-data'?: string;
      'certificate-authority'?: string;
      'insecure-skip-tls-verify'?: boolean;
    };
  }>;
  users?: Named<{ user?: { token?: string; tokenFile?: string; 'client-certificate-data'?: string } }>;
}

export function loadKubeconfig(path: string): KubeRestOptions {
  const bad = (what: string) =>
    new MoorError('invalid-input', `kubeconfig ${path}: ${what}`, {
      hint: 'give a kubeconfig with a server, its CA and a bearer token',
    });
  const text = readFile(path, 'kubeconfig');
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (err) {
    throw bad(`it is not YAML: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw bad('it is not a kubeconfig');
  const doc = parsed as KubeconfigFile;
  const list = <T>(v: T[] | undefined): T[] =>
    Array.isArray(v) ? v.filter((e) => typeof e === 'object' && e) : [];
  const ctxName = doc['current-context'];
  const contexts = list(doc.contexts);
  const ctx = contexts.find((c) => c.name === ctxName)?.context ?? contexts[0]?.context;
  if (!ctx) throw bad('no context');
  const cluster = list(doc.clusters).find((c) => c.name === ctx.cluster)?.cluster;
  const user = list(doc.users).find((u) => u.name === ctx.user)?.user;
  if (!cluster?.server) throw bad(`cluster "${ctx.cluster}" has no server`);
  const caPem = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8')
    : cluster['certificate-authority']
      ? readFile(cluster['certificate-authority'], 'certificate-authority file')
      : undefined;
  const token = user?.token ?? (user?.tokenFile ? readFile(user.tokenFile, 'tokenFile').trim() : undefined);
  if (!token) throw bad(`user "${ctx.user}" has no bearer token (client certificates are not supported)`);
  return {
    server: cluster.server,
    token,
    insecure: cluster['insecure-skip-tls-verify'] === true,
    ...(caPem ? { caPem } : {}),
  };
}

export function inClusterConfig(): KubeRestOptions {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) {
    throw new MoorError('invalid-argument', 'not running in a pod and no --kubeconfig given', {
      hint: 'pass --kubeconfig with credentials for this cluster',
    });
  }
  const server = host.includes(':') ? `https://[${host}]:${port}` : `https://${host}:${port}`;
  return {
    server,
    token: readFile(`${SA_DIR}/token`, 'service account token').trim(),
    caPem: readFile(`${SA_DIR}/ca.crt`, 'service account CA'),
  };
}

/** Kubeconfigs, CAs and tokens are kilobytes; 4 MiB leaves room for big CA bundles. */
function readFile(path: string, what: string): string {
  return readInputFile(path, {
    what,
    maxBytes: 4 << 20,
    hint: 'give a kubeconfig with a server, its CA and a bearer token',
  }).toString('utf8');
}
