// A real Kubernetes API server for tests: Debian's etcd plus kube-apiserver and
// kube-controller-manager built from the Go module proxy, run inside a namespace of the run.
// It is configured like a real cluster: RBAC, service-account token signing (TokenRequest and
// token Secrets work), default admission plugins. The test runner reaches it through a unix
// socket bridge on 127.0.0.1; hosts of the topology reach it at https://<address>:<port>.
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { kubeBinary } from './kube-binaries.ts';
import { makeApiServerPki } from './pki.ts';
import { type RunningProcess, waitFor } from './process.ts';
import type { TestRun } from './run.ts';
import type { Host } from './topology.ts';
import { bridgeToNamespace } from './unix-bridge.ts';

export interface Etcd {
  host: Host;
  url: string;
  process: RunningProcess;
}

export async function startEtcd(run: TestRun, host: Host): Promise<Etcd> {
  const url = 'http://127.0.0.1:2379';
  const proc = host.spawn('etcd', [
    'etcd',
    '--name=moor-test',
    `--data-dir=${join(run.dir, `etcd-${host.name}`)}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    '--listen-peer-urls=http://127.0.0.1:2380',
    '--initial-advertise-peer-urls=http://127.0.0.1:2380',
    '--initial-cluster=moor-test=http://127.0.0.1:2380',
    '--log-level=info',
  ]);
  await waitFor(
    'etcd to serve clients',
    () => (proc.log().includes('ready to serve client requests') ? true : undefined),
    {
      process: proc,
      timeoutMs: 30_000,
    },
  );
  return { host, url, process: proc };
}

export interface ApiServerOptions {
  /** Name of this simulated cluster; also the etcd prefix, so several share one etcd. */
  name: string;
  host: Host;
  etcd: Etcd;
  /** The host's address that other namespaces use to reach the API server. */
  address: string;
  port?: number;
  /** Start kube-controller-manager too (token Secrets, namespace deletion, garbage collection). */
  controllerManager?: boolean;
  /** Its --controllers (default: all on-by-default ones), e.g. without node-lifecycle-controller
   * when no kubelet heartbeats the Nodes. */
  controllers?: string[];
}

export interface ApiServer {
  name: string;
  /** URL for hosts of the topology. */
  url: string;
  /** URL for the test runner (loopback bridge). */
  localUrl: string;
  caPem: string;
  adminToken: string;
  /** A KubeConfig for the test runner, as admin or with another bearer token. */
  kubeConfig(token?: string): KubeConfig;
  /** A kubeconfig file's text for processes inside the topology. */
  kubeConfigYaml(token?: string): string;
  apiserver: RunningProcess;
  controllerManager: RunningProcess | undefined;
  /** Stop the kube-apiserver process (a broker outage); etcd and the data stay. */
  stopApiServer(): Promise<void>;
  /** Start it again with the same flags and wait until it is ready. */
  restartApiServer(): Promise<void>;
}

export async function startApiServer(run: TestRun, options: ApiServerOptions): Promise<ApiServer> {
  const { host, name } = options;
  const port = options.port ?? 6443;
  const dir = join(run.dir, `kube-${name}`);
  await host.exec(['mkdir', '-p', dir]);
  const pki = await makeApiServerPki(
    dir,
    [options.address, '127.0.0.1'],
    ['localhost', 'kubernetes.default.svc'],
  );
  const adminToken = `admin-${run.id}-${name}-${Math.random().toString(36).slice(2)}`;
  const tokenFile = join(dir, 'tokens.csv');
  writeFileSync(tokenFile, `${adminToken},moor-test-admin,moor-test-admin,system:masters\n`, { mode: 0o600 });

  const apiserverArgv = [
    kubeBinary('kube-apiserver'),
    `--etcd-servers=${options.etcd.url}`,
    `--etcd-prefix=/registry-${name}`,
    '--bind-address=0.0.0.0',
    `--secure-port=${port}`,
    `--advertise-address=${options.address}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--token-auth-file=${tokenFile}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    `--cert-dir=${dir}`,
    '--allow-privileged=true',
    '--profiling=false',
    '--v=1',
  ];
  const apiserver = host.spawn(`apiserver-${name}`, apiserverArgv);

  const bridge = await bridgeToNamespace(run, host, '127.0.0.1', port);
  const localUrl = `https://127.0.0.1:${bridge.port}`;
  const ready = (proc: RunningProcess) =>
    waitFor(
      `kube-apiserver ${name} /readyz`,
      async () => ((await httpsGet(`${localUrl}/readyz`, pki.caPem, adminToken)) === 200 ? true : undefined),
      { process: proc, timeoutMs: 90_000, intervalMs: 250 },
    );
  await ready(apiserver);

  const kubeConfigFor = (server: string, token: string): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name, server, caData: Buffer.from(pki.caPem).toString('base64') }],
      users: [{ name: 'user', token }],
      contexts: [{ name, cluster: name, user: 'user' }],
      currentContext: name,
    });
    return kc;
  };
  const url = `https://${options.address}:${port}`;
  const server: ApiServer = {
    name,
    url,
    localUrl,
    caPem: pki.caPem,
    adminToken,
    kubeConfig: (token = adminToken) => kubeConfigFor(localUrl, token),
    kubeConfigYaml: (token = adminToken) => kubeConfigFor(url, token).exportConfig(),
    apiserver,
    controllerManager: undefined,
    stopApiServer: () => server.apiserver.stop(),
    restartApiServer: async () => {
      await server.apiserver.stop();
      server.apiserver = host.spawn(`apiserver-${name}-again`, apiserverArgv);
      await ready(server.apiserver);
    },
  };

  if (options.controllerManager ?? true) {
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeConfigFor(`https://127.0.0.1:${port}`, adminToken).exportConfig(), {
      mode: 0o600,
    });
    server.controllerManager = host.spawn(`controller-manager-${name}`, [
      kubeBinary('kube-controller-manager'),
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--leader-elect=false',
      ...(options.controllers ? [`--controllers=${options.controllers.join(',')}`] : []),
      '--use-service-account-credentials=false',
      '--secure-port=0',
      '--v=1',
    ]);
    // The serviceaccount controller creates "default" in every namespace: proof it is working.
    const core = server.kubeConfig().makeApiClient(CoreV1Api);
    await waitFor(
      'kube-controller-manager (default service account)',
      async () =>
        (await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }))
          ? true
          : undefined,
      { process: server.controllerManager, timeoutMs: 90_000, intervalMs: 250 },
    );
  }
  return server;
}

function httpsGet(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}
