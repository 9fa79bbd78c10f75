// Micro-benchmark of the DNS hot path: precomputed answers versus resolving and encoding per
// query, plus a UDP loopback run through the real server. Prints figures; asserts nothing.
// Run: npx node bench/dns-answer.ts [queries]
import { createSocket } from 'node:dgram';
import { PerformanceObserver } from 'node:perf_hooks';
import { createAnswerer } from '../src/dns/answer.ts';
import { prepareResolution } from '../src/dns/answer-store.ts';
import { encodeQuery } from '../src/dns/message.ts';
import { classifyName, normalizeZones } from '../src/dns/names.ts';
import { buildRecordIndex } from '../src/dns/records.ts';
import { resolveServiceQuery } from '../src/dns/resolve.ts';
import { startDnsServer } from '../src/dns/server.ts';
import { endpointSlice, serviceImport, serviceIpSlice, tcp } from '../src/dns/testing.ts';
import { parseQuery } from '../src/dns/wire.ts';
import { replyLimit, writeRejection, writeReply } from '../src/dns/wire-write.ts';

const QUERIES = Number(process.argv[2] ?? 1_000_000);
const SERVICES = 200;
const HEADLESS = 20;
const CLUSTERS = ['east', 'west', 'south'];
const S = 'svc.clusterset.local';

function buildInput() {
  const serviceImports: unknown[] = [];
  const endpointSlices: unknown[] = [];
  for (let i = 0; i < SERVICES; i++) {
    serviceImports.push(serviceImport({ service: `svc${i}`, namespace: 'bench', ports: [tcp('http', 80)] }));
    CLUSTERS.forEach((cluster, c) => {
      endpointSlices.push(
        serviceIpSlice(`svc${i}`, 'bench', cluster, `10.${c}.${i >> 8}.${i & 255}`, [tcp('http', 80)]),
      );
    });
  }
  for (let i = 0; i < HEADLESS; i++) {
    serviceImports.push(serviceImport({ service: `hl${i}`, namespace: 'bench', type: 'Headless' }));
    const endpoints = Array.from({ length: 50 }, (_, e) => ({
      addresses: [`10.9.${i}.${e}`],
      hostname: `pod-${e}`,
    }));
    endpointSlices.push(
      endpointSlice({
        service: `hl${i}`,
        namespace: 'bench',
        cluster: 'east',
        headless: true,
        ports: [tcp('pg', 5432)],
        endpoints,
      }),
    );
  }
  return { serviceImports, endpointSlices, localClusterId: 'local', connectedClusters: CLUSTERS };
}

/** A realistic mix: A and AAAA pairs dominate (glibc asks both), some SRV, cluster names, misses. */
function queryMix(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    const svc = `svc${i % SERVICES}.bench.${S}`;
    const roll = i % 20;
    const [name, type] =
      roll < 8
        ? [svc, 1]
        : roll < 14
          ? [svc, 28]
          : roll < 15
            ? [`east.${svc}`, 1]
            : roll < 16
              ? [`_http._tcp.${svc}`, 33]
              : roll < 17
                ? [`pod-${i % 50}.east.hl${i % HEADLESS}.bench.${S}`, 1]
                : roll < 18
                  ? [`hl${i % HEADLESS}.bench.${S}`, 1]
                  : roll < 19
                    ? [`missing${i}.bench.${S}`, 1]
                    : [`www${i}.example.com`, 1];
    out.push(encodeQuery({ id: i, name, type, ...(i % 2 ? { edns: { udpSize: 1232 } } : {}) }));
  }
  return out;
}

let gcCount = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcCount++;
    gcMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

async function measure(label: string, queries: Buffer[], answerOne: (q: Buffer) => unknown): Promise<void> {
  for (let i = 0; i < 50_000; i++) answerOne(queries[i % queries.length] as Buffer); // warm-up
  await new Promise((r) => setTimeout(r, 50)); // let warm-up GC entries flush
  gcCount = 0;
  gcMs = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  const start = process.hrtime.bigint();
  for (let i = 0; i < QUERIES; i++) answerOne(queries[i % queries.length] as Buffer);
  const ns = Number(process.hrtime.bigint() - start);
  await new Promise((r) => setTimeout(r, 50));
  const heapDelta = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  console.log(
    `${label.padEnd(34)} ${(ns / QUERIES).toFixed(0).padStart(6)} ns/query  ${(((QUERIES / ns) * 1e9) / 1000).toFixed(0).padStart(5)} k q/s` +
      `  GCs ${String(gcCount).padStart(4)} (${gcMs.toFixed(0)} ms)  heap Δ ${heapDelta.toFixed(1)} MB`,
  );
}

async function udpLoopback(
  answerer: ReturnType<typeof createAnswerer>,
  queries: Buffer[],
  total: number,
): Promise<void> {
  const server = await startDnsServer({ address: '127.0.0.1', port: 0, answerer });
  const client = createSocket('udp4');
  const port = server.address().port;
  const inFlight = 64;
  let sent = 0;
  let received = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const sendOne = () => {
      if (sent < total) client.send(queries[sent++ % queries.length] as Buffer, port, '127.0.0.1');
    };
    client.on('message', () => {
      if (++received === total) resolve();
      else sendOne();
    });
    for (let i = 0; i < inFlight; i++) sendOne();
    setTimeout(resolve, 30_000); // UDP may lose a few under load; never hang
  });
  const ns = Number(process.hrtime.bigint() - start);
  console.log(
    `UDP loopback (server+client, 64 in flight): ${received}/${total} replies, ${(((received / ns) * 1e9) / 1000).toFixed(1)} k q/s`,
  );
  client.close();
  await server.close();
}

async function main(): Promise<void> {
  const input = buildInput();
  let t = performance.now();
  const { index } = buildRecordIndex(input);
  const indexMs = performance.now() - t;
  t = performance.now();
  const answerer = createAnswerer(index);
  const precomputeMs = performance.now() - t;
  console.log(
    `node ${process.version}; ${SERVICES} ClusterSetIP services x ${CLUSTERS.length} clusters + ${HEADLESS} headless x 50 pods`,
  );
  console.log(
    `index build ${indexMs.toFixed(1)} ms; precompute ${precomputeMs.toFixed(1)} ms for ${answerer.precomputedNames} names`,
  );

  const queries = queryMix();
  await measure('precomputed (answerer.answer)', queries, (q) => answerer.answer(q, 'udp'));

  const zones = normalizeZones();
  await measure('per-query resolve + encode', queries, (q) => {
    const parsed = parseQuery(q);
    if (parsed.kind === 'drop') return null;
    if (parsed.kind === 'reject') return writeRejection(parsed);
    const classified = classifyName(parsed.qname, parsed.qtype, zones);
    if (classified.kind !== 'service') return null;
    const prepared = prepareResolution(resolveServiceQuery(index, classified.query, parsed.qtype), 5);
    const records = prepared.variants[0];
    return records && writeReply(q, parsed, prepared.rcode, true, records, replyLimit(parsed, 'udp'));
  });
  await measure('parseQuery only', queries, (q) => parseQuery(q));

  await udpLoopback(answerer, queries, Math.min(QUERIES, 200_000));
}

await main();
