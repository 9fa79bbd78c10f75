// Credentials for a cluster's own API server: a kubeconfig file (server, CA, bearer token), or
// the in-cluster service account when running as a pod.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MoorError } from '../errors.ts';
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
  let doc: KubeconfigFile;
  try {
    doc = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  } catch (err) {
    throw new MoorError(
      'invalid-input',
      `cannot read kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const ctxName = doc['current-context'];
  const ctx = (doc.contexts ?? []).find((c) => c.name === ctxName)?.context ?? doc.contexts?.[0]?.context;
  if (!ctx) throw bad('no context');
  const cluster = (doc.clusters ?? []).find((c) => c.name === ctx.cluster)?.cluster;
  const user = (doc.users ?? []).find((u) => u.name === ctx.user)?.user;
  if (!cluster?.server) throw bad(`cluster "${ctx.cluster}" has no server`);
  const caPem = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8')
    : cluster['certificate-authority']
      ? readFileSync(cluster['certificate-authority'], 'utf8')
      : undefined;
  const token = user?.token ?? (user?.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined);
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
    token: readFileSync(`${SA_DIR}/token`, 'utf8').trim(),
    caPem: readFileSync(`${SA_DIR}/ca.crt`, 'utf8'),
  };
}
