// The host's clusterset DNS on real parts: a real API server with the broker deployed, Lighthouse
// objects in the exact broker format for two clusters, ClustersetDns in this process on
// 127.0.0.1, queried with the real `dig`, and a real dnsmasq forwarding the zones to it through
// the drop-in moor writes.
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DROPIN_NAME } from '../../src/dataplane/resolver/detect.ts';
import { renderDnsmasqDropin } from '../../src/dns/resolver-dropins.ts';
import { ClustersetDns } from '../../src/dns/service.ts';
import { endpointSlice, type PortSpec, serviceImport, serviceIpSlice, tcp } from '../../src/dns/testing.ts';
import { brokerPaths, itemPath } from '../../src/k8s/paths.ts';
import { KubeRestClient } from '../../src/k8s/rest.ts';
import { type ApiServer, startApiServer, startEtcd } from '../harness/apiserver.ts';
import { type BrokerFixture, deployBroker } from '../harness/broker.ts';
import { exec } from '../harness/exec.ts';
import { startProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import { buildTopology } from '../harness/topology.ts';

type Json = Record<string, unknown>;

let run: TestRun;
let api: ApiServer;
let broker: BrokerFixture;
let client: KubeRestClient;
let dns: ClustersetDns;
let port: number;
const log: string[] = [];

const S = 'svc.clusterset.local';
const HTTP = [tcp('http', 80)];
const EAST_WEB = '10.1.0.10';
const WEST_WEB = '10.2.0.10';

beforeAll(async () => {
  run = TestRun.start();
  const topo = await buildTopology(run, {
    hosts: { broker: {}, wan: {} },
    links: [{ a: { host: 'broker', address: '10.99.0.2/24' }, b: { host: 'wan', address: '10.99.0.1/24' } }],
  });
  const etcd = await startEtcd(run, topo.host('broker'));
  api = await startApiServer(run, { name: 'broker', host: topo.host('broker'), etcd, address: '10.99.0.2' });
  broker = await deployBroker(api.kubeConfig());
  client = new KubeRestClient({ server: api.localUrl, caPem: api.caPem, token: api.adminToken });

  await createServiceImport(
    serviceImport({ service: 'web', namespace: 'shop', ports: HTTP, clusters: ['east', 'west'] }),
  );
  await createServiceImport(
    serviceImport({ service: 'db', namespace: 'shop', type: 'Headless', clusters: ['east', 'west'] }),
  );
  await createSlice(serviceIpSlice('web', 'shop', 'east', EAST_WEB, HTTP), 'web-east0');
  await createSlice(serviceIpSlice('web', 'shop', 'west', WEST_WEB, HTTP), 'web-west0');
  const pg = [tcp('pg', 5432)];
  await createSlice(
    endpointSlice({
      service: 'db',
      namespace: 'shop',
      cluster: 'east',
      headless: true,
      ports: pg,
      endpoints: [
        { addresses: ['10.1.1.1'], hostname: 'db-0', ready: true },
        { addresses: ['10.1.1.2'], hostname: 'db-1', ready: true },
      ],
    }),
    'db-east0',
  );
  await createSlice(
    endpointSlice({
      service: 'db',
      namespace: 'shop',
      cluster: 'west',
      headless: true,
      ports: pg,
      endpoints: [{ addresses: ['10.2.1.1'], hostname: 'db-0', ready: true }],
    }),
    'db-west0',
  );

  dns = new ClustersetDns({
    client,
    namespace: broker.namespace,
    localClusterId: 'host1',
    customDomains: ['example.org'],
    listen: { address: '127.0.0.1', port: 0 },
    log: (line) => log.push(line),
  });
  await dns.start();
  port = dns.address()?.port ?? 0;
  await dns.waitUntilReady(10_000);
  dns.setConnectedClusters(['east', 'west']);
});

afterAll(async () => {
  try {
    await dns?.stop();
    client?.close();
  } finally {
    await run?.cleanup();
  }
});

async function createServiceImport(object: Json): Promise<void> {
  const path = brokerPaths.serviceImports(broker.namespace);
  const created = await client.create<Json & { metadata: { name: string } }>(path, object);
  // As admiral does: POST the object, then PUT status.clusters through the status subresource.
  await client.replace(`${itemPath(path, created.metadata.name)}/status`, {
    ...created,
    status: object.status,
  });
}

async function createSlice(object: Json, name: string): Promise<void> {
  const metadata = { ...(object.metadata as Json), name };
  await client.create(brokerPaths.endpointSlices(broker.namespace), { ...object, metadata });
}

interface DigAnswer {
  status: string;
  flags: string[];
  records: Array<{ name: string; ttl: number; type: string; data: string }>;
}

async function dig(name: string, type = 'A', serverPort = port): Promise<DigAnswer> {
  const argv = ['dig', '@127.0.0.1', '-p', String(serverPort), name, type, '+noall', '+comments', '+answer'];
  const out = (await exec([...argv, '+tries=1', '+time=2'])).stdout;
  const records = out
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'))
    .map((line) => {
      const [owner = '', ttl = '', , rtype = '', ...data] = line.trim().split(/\s+/);
      return { name: owner, ttl: Number(ttl), type: rtype, data: data.join(' ') };
    });
  return {
    status: /status: (\w+)/.exec(out)?.[1] ?? 'NO REPLY',
    flags: (/;; flags: ([a-z ]+);/.exec(out)?.[1] ?? '').split(' '),
    records,
  };
}

async function short(name: string, type = 'A', serverPort = port): Promise<string[]> {
  const out = (
    await exec(['dig', '@127.0.0.1', '-p', String(serverPort), name, type, '+short', '+tries=1', '+time=2'])
  ).stdout;
  return out.split('\n').filter((line) => line.trim() !== '');
}

describe('answers', () => {
  it('A for a ClusterSetIP service: one authoritative record with TTL 5', async () => {
    const answer = await dig(`web.shop.${S}`);
    expect(answer.status).toBe('NOERROR');
    expect(answer.flags).toContain('aa');
    expect(answer.records).toHaveLength(1);
    expect(answer.records[0]).toMatchObject({ name: `web.shop.${S}.`, ttl: 5, type: 'A' });
    expect([EAST_WEB, WEST_WEB]).toContain(answer.records[0]?.data);
  });

  it('rotates round-robin across the connected clusters', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(...(await short(`web.shop.${S}`)));
    expect(new Set(seen)).toEqual(new Set([EAST_WEB, WEST_WEB]));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  it('cluster-prefixed names pick that cluster', async () => {
    expect(await short(`east.web.shop.${S}`)).toEqual([EAST_WEB]);
    expect(await short(`west.web.shop.${S}`)).toEqual([WEST_WEB]);
  });

  it('SRV for the service, a port filter and a cluster', async () => {
    expect(await short(`web.shop.${S}`, 'SRV')).toEqual([`0 50 80 web.shop.${S}.`]);
    expect(await short(`_http._tcp.web.shop.${S}`, 'SRV')).toEqual([`0 50 80 web.shop.${S}.`]);
    expect(await short(`_http._tcp.east.web.shop.${S}`, 'SRV')).toEqual([`0 50 80 east.web.shop.${S}.`]);
    expect(await short(`_https._tcp.web.shop.${S}`, 'SRV')).toEqual([]);
  });

  it('headless: every address, and per-host names', async () => {
    expect((await short(`db.shop.${S}`)).sort()).toEqual(['10.1.1.1', '10.1.1.2', '10.2.1.1']);
    expect(await short(`db-0.east.db.shop.${S}`)).toEqual(['10.1.1.1']);
    expect(await short(`db-0.west.db.shop.${S}`)).toEqual(['10.2.1.1']);
    expect((await dig(`db-9.east.db.shop.${S}`)).status).toBe('NXDOMAIN');
    expect((await short(`db.shop.${S}`, 'SRV')).sort()).toEqual([
      `0 50 5432 db-0.east.db.shop.${S}.`,
      `0 50 5432 db-0.west.db.shop.${S}.`,
      `0 50 5432 db-1.east.db.shop.${S}.`,
    ]);
  });

  it('NXDOMAIN for unknown services, empty NOERROR for AAAA, REFUSED outside the zones', async () => {
    const unknown = await dig(`nope.shop.${S}`);
    expect(unknown).toMatchObject({ status: 'NXDOMAIN', records: [] });
    expect(unknown.flags).toContain('aa');
    expect(await dig(`web.shop.${S}`, 'AAAA')).toMatchObject({ status: 'NOERROR', records: [] });
    expect((await dig('example.com')).status).toBe('REFUSED');
  });

  it('serves the custom domain too', async () => {
    expect(await short('east.web.shop.svc.example.org')).toEqual([EAST_WEB]);
  });
});

describe('connectivity and changes', () => {
  it('a cluster removed from the connected set drops out at once', async () => {
    dns.setConnectedClusters(['east']);
    try {
      for (let i = 0; i < 3; i++) expect(await short(`web.shop.${S}`)).toEqual([EAST_WEB]);
      expect((await short(`db.shop.${S}`)).sort()).toEqual(['10.1.1.1', '10.1.1.2']);
      // A cluster prefix still answers, as Lighthouse does for unhealthy or disconnected clusters.
      expect(await short(`west.web.shop.${S}`)).toEqual([WEST_WEB]);
    } finally {
      dns.setConnectedClusters(['east', 'west']);
    }
    expect((await short(`db.shop.${S}`)).sort()).toEqual(['10.1.1.1', '10.1.1.2', '10.2.1.1']);
  });

  it('an object changed on the API server shows up in answers within a second', async () => {
    const path = itemPath(brokerPaths.endpointSlices(broker.namespace), 'web-east0');
    const slice = await client.get<Json & { endpoints: Array<{ addresses: string[] }> }>(path);
    const endpoint = slice.endpoints[0];
    if (!endpoint) throw new Error('slice without endpoints');
    endpoint.addresses = ['10.1.0.11'];
    await client.replace(path, slice);
    await waitFor(
      'the new address in DNS',
      async () => ((await short(`east.web.shop.${S}`))[0] === '10.1.0.11' ? true : undefined),
      { timeoutMs: 1_000, intervalMs: 20 },
    );
  });
});

describe('unnamed ports (issue 8 item 5)', () => {
  it('a port without a name is valid: with a clusterset IP, SRV answers it as Lighthouse does', async () => {
    // Real lighthouse-agents (and `moor export`) write `{port, protocol}` for a Service with one
    // unnamed port. LH answers a plain SRV query with every port of the aggregated spec.ports when
    // the import has a clusterset IP, and a `_name._proto.` filter matches no unnamed port.
    const unnamed = [{ protocol: 'TCP', port: 8080 } as PortSpec];
    await createServiceImport(
      serviceImport({
        service: 'api',
        namespace: 'shop',
        ips: ['243.0.0.40'],
        ports: unnamed,
        clusters: ['east'],
      }),
    );
    await createSlice(serviceIpSlice('api', 'shop', 'east', '10.1.0.40', unnamed), 'api-east0');
    await waitFor('api in DNS', async () =>
      (await short(`api.shop.${S}`))[0] === '243.0.0.40' ? true : undefined,
    );
    expect(await short(`api.shop.${S}`, 'SRV')).toEqual([`0 50 8080 api.shop.${S}.`]);
    expect(await short(`east.api.shop.${S}`, 'SRV')).toEqual([`0 50 8080 east.api.shop.${S}.`]);
    expect(await short(`_http._tcp.api.shop.${S}`, 'SRV')).toEqual([]);
    expect((await dig(`_http._tcp.api.shop.${S}`, 'SRV')).status).toBe('NOERROR');
    expect(dns.problems().filter((p) => p.name === 'api-shop' || p.name === 'api-east0')).toEqual([]);
  });
});

describe('malformed objects skip only themselves', () => {
  it('an unknown protocol and a slice without its labels', async () => {
    // A ServiceImport with an unknown protocol on one of its ports (the CRD allows any string).
    await createServiceImport(
      serviceImport({
        service: 'odd',
        namespace: 'shop',
        ports: [{ name: 'ping', protocol: 'ICMP', port: 7 }, ...HTTP],
        clusters: ['west'],
      }),
    );
    await createSlice(serviceIpSlice('odd', 'shop', 'west', '10.2.0.50', HTTP), 'odd-west0');
    // A Lighthouse-managed slice for web that lost its service, namespace and cluster labels.
    const rogue = serviceIpSlice('web', 'shop', 'rogue', '10.9.9.9', HTTP);
    const rogueMeta = rogue.metadata as { labels: Record<string, string> };
    const labels = {
      'endpointslice.kubernetes.io/managed-by':
        rogueMeta.labels['endpointslice.kubernetes.io/managed-by'] ?? '',
    };
    await createSlice({ ...rogue, metadata: { ...rogueMeta, labels } }, 'web-rogue0');

    await waitFor('the new service in DNS', async () => {
      const [odd] = await short(`odd.shop.${S}`);
      return odd === '10.2.0.50' ? true : undefined;
    });
    const reasons = dns.problems().map((p) => `${p.kind} ${p.name}: ${p.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ServiceImport odd-shop: spec.ports\[0\] has unknown protocol "ICMP"/),
        expect.stringMatching(/^EndpointSlice web-rogue0: missing one of the labels/),
      ]),
    );
    expect(log.filter((line) => line.includes('web-rogue0'))).toHaveLength(1);
    // Everything else is untouched: web still rotates over east and west only.
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) for (const ip of await short(`web.shop.${S}`)) seen.add(ip);
    expect(seen).toEqual(new Set(['10.1.0.11', WEST_WEB]));
    expect(await short(`_http._tcp.odd.shop.${S}`, 'SRV')).toEqual([`0 50 80 odd.shop.${S}.`]);
  });
});

describe('dnsmasq forwarding through the moor drop-in', () => {
  it('answers a clusterset name exactly as moor does', async () => {
    const confDir = join(run.dir, 'dnsmasq.d');
    mkdirSync(confDir, { recursive: true });
    const dropin = renderDnsmasqDropin({ address: '127.0.0.1', port }, ['clusterset.local', 'example.org']);
    writeFileSync(join(confDir, DROPIN_NAME), dropin);
    expect(dropin).toContain(`server=/clusterset.local/127.0.0.1#${port}\n`);
    const dnsmasqPort = await freeUdpPort();
    const dnsmasq = startProcess(run, 'dnsmasq', [
      'dnsmasq',
      '--no-daemon',
      '--conf-file=/dev/null',
      `--conf-dir=${confDir}`,
      `--port=${dnsmasqPort}`,
      '--listen-address=127.0.0.1',
      '--no-resolv',
      '--no-hosts',
      '--bind-interfaces',
      '--log-queries',
    ]);
    try {
      const viaDnsmasq = await waitFor(
        'dnsmasq to forward to moor',
        async () => {
          const answer = await short(`east.web.shop.${S}`, 'A', dnsmasqPort);
          return answer.length > 0 ? answer : undefined;
        },
        { process: dnsmasq, timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(viaDnsmasq).toEqual(await short(`east.web.shop.${S}`));
      expect(await short(`_http._tcp.east.web.shop.${S}`, 'SRV', dnsmasqPort)).toEqual([
        `0 50 80 east.web.shop.${S}.`,
      ]);
      expect(await short('west.web.shop.svc.example.org', 'A', dnsmasqPort)).toEqual([WEST_WEB]);
      expect((await dig(`nope.shop.${S}`, 'A', dnsmasqPort)).status).toBe('NXDOMAIN');
      expect(dnsmasq.log()).toContain(`forwarded east.web.shop.${S} to 127.0.0.1#${port}`);
    } finally {
      await dnsmasq.stop();
    }
  });
});

/** A port free on 127.0.0.1 for UDP right now (dnsmasq binds TCP on it as well). */
function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port: free } = socket.address();
      socket.close(() => resolve(free));
    });
  });
}
