// moor's DNS server on synthetic clusterset records, for the DNS benchmark (bench/run.ts --only
// dns) or by hand:  npx node bench/dns-serve.ts --port 5353 --services 1000
// Builds the record index from Lighthouse objects (src/dns/testing.ts builders), precomputes the
// answers and serves them with startDnsServer on 127.0.0.1 until SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { createAnswerer } from '../src/dns/answer.ts';
import { buildRecordIndex } from '../src/dns/records.ts';
import { startDnsServer } from '../src/dns/server.ts';
import { dnsBenchServices, lighthouseObjects } from './lib/dns-data.ts';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    services: { type: 'string', default: '1000' },
  },
});

const services = dnsBenchServices(Number(values.services));
const { index, problems } = buildRecordIndex({
  ...lighthouseObjects(services),
  localClusterId: 'bench-host',
  connectedClusters: 'all',
});
if (problems.length > 0) console.error(`record index problems: ${problems.length}`);
const answerer = createAnswerer(index);
const server = await startDnsServer({ address: values.address, port: Number(values.port), answerer });
console.log(
  `moor DNS listening on ${values.address}:${server.address().port}: ${index.services.size} services, ${answerer.precomputedNames} precomputed names`,
);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
