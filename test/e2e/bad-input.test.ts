// Every command against missing, unreadable, directory, special, empty and huge inputs (files
// and flags): one clear message with a fix, a non-zero exit, no stack trace, and nothing that
// works is changed (a joined host stays joined when a command on it is refused).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../harness/apiserver.ts';
import type { BrokerFixture } from '../harness/broker.ts';
import { startBrokerAndHost } from '../harness/broker-and-host.ts';
import { expectOneMessage } from '../harness/cli-output.ts';
import { MOOR_BUNDLE, moor } from '../harness/moor.ts';
import { TestRun } from '../harness/run.ts';
import type { Topology } from '../harness/topology.ts';

let run: TestRun;
let topo: Topology;
let api: ApiServer;
let broker: BrokerFixture;
let good: string;
let joined: string;
const path: Record<string, string> = {};

beforeAll(async () => {
  run = TestRun.start();
  ({ topo, api, broker, brokerInfo: good } = await startBrokerAndHost(run));
  const at = (name: string) => {
    path[name] = join(run.dir, name);
    return path[name];
  };
  mkdirSync(at('a-directory'));
  writeFileSync(at('empty'), '');
  writeFileSync(at('huge'), '');
  truncateSync(at('huge'), 8 * 2 ** 30); // sparse: reading it would take minutes and all memory
  execFileSync('mkfifo', [at('fifo')]); // opening it for reading would wait for a writer for ever
  writeFileSync(at('garbage'), 'this is neither base64 nor YAML: [');
  writeFileSync(at('a-file'), 'not a directory');
  at('missing');
  writeFileSync(at('kubeconfig'), api.kubeConfigYaml(broker.adminToken));
  for (const [name, content] of [
    ['state-empty', ''],
    ['state-garbage', '{ not json'],
    ['state-garbage-to-leave', '{ not json'],
  ] as const) {
    mkdirSync(at(name), { mode: 0o700 });
    writeFileSync(join(at(name), 'state.json'), content);
  }
  mkdirSync(join(at('state-json-is-dir'), 'state.json'), { recursive: true });
  mkdirSync(at('state-huge'), { mode: 0o700 });
  writeFileSync(join(at('state-huge'), 'state.json'), '');
  truncateSync(join(at('state-huge'), 'state.json'), 8 * 2 ** 30);

  joined = join(run.dir, 'joined');
  const r = await moor(topo.host('vm1'), [
    'join',
    good,
    '--clusterid',
    'joined',
    '--state-dir',
    joined,
    '--interface',
    run.ifName('w'),
    '--no-start',
  ]);
  if (r.code !== 0) throw new Error(`join failed: ${r.stderr}`);
});

afterAll(async () => {
  await run?.cleanup();
});

const stateJson = () => readFileSync(join(joined, 'state.json'), 'utf8');

type Case = [what: string, args: () => string[], message: RegExp];

function refuses(cases: Case[]): void {
  it.each(cases)('%s', async (_what, args, message) => {
    const before = stateJson();
    const r = await moor(topo.host('vm1'), args(), { timeoutMs: 30_000 });
    expect(r.code, r.stderr).not.toBe(0);
    expectOneMessage(r.stderr, message);
    expect(stateJson()).toBe(before); // the joined host is untouched
  });
}

const joinWith = (...args: string[]) => [
  'join',
  ...args,
  '--clusterid',
  'nobody-should-join',
  '--interface',
  'mbadin0',
  '--no-start',
];

describe('moor join', () => {
  const fresh = () => join(run.dir, 'fresh-state');
  refuses([
    [
      'broker-info missing',
      () => joinWith(path.missing!, '--state-dir', fresh()),
      /broker-info file .* does not exist/,
    ],
    [
      'broker-info a directory',
      () => joinWith(path['a-directory']!, '--state-dir', fresh()),
      /is a directory, not a file/,
    ],
    [
      'broker-info empty',
      () => joinWith(path.empty!, '--state-dir', fresh()),
      /broker-info file .* is empty/,
    ],
    ['broker-info huge', () => joinWith(path.huge!, '--state-dir', fresh()), /is larger than \d+ bytes/],
    ['broker-info a FIFO', () => joinWith(path.fifo!, '--state-dir', fresh()), /is not a regular file/],
    ['broker-info /dev/zero', () => joinWith('/dev/zero', '--state-dir', fresh()), /is not a regular file/],
    ['broker-info garbage', () => joinWith(path.garbage!, '--state-dir', fresh()), /not base64/],
    [
      'state dir a file',
      () => joinWith(good, '--state-dir', path['a-file']!),
      /it is a file, not a directory/,
    ],
    [
      'state dir below a file',
      () => joinWith(good, '--state-dir', join(path['a-file']!, 'sub')),
      /a-file is a file, not a directory/,
    ],
    ['state dir empty', () => joinWith(good, '--state-dir='), /--state-dir is empty/],
    [
      'state dir /tmp (not moor’s)',
      () => joinWith(good, '--state-dir', '/tmp'),
      /not a moor state directory/,
    ],
    [
      'cluster ID huge',
      () => [...joinWith(good, '--state-dir', fresh()), '--clusterid', 'x'.repeat(100_000)],
      /cluster ID/,
    ],
    [
      'pool garbage',
      () => [...joinWith(good, '--state-dir', fresh()), '--pool', 'garbage'],
      /--pool "garbage" is not/,
    ],
    [
      'private IP garbage',
      () => [...joinWith(good, '--state-dir', fresh()), '--private-ip', 'x'.repeat(10_000)],
      /--private-ip/,
    ],
    [
      'interface too long',
      () => [...joinWith(good, '--state-dir', fresh()), '--interface', 'i'.repeat(16)],
      /--interface/,
    ],
    [
      'host name huge',
      () => [...joinWith(good, '--state-dir', fresh()), '--hostname', 'h'.repeat(100_000)],
      /--hostname/,
    ],
    [
      'broker URL garbage',
      () => [...joinWith(good, '--state-dir', fresh()), '--broker-url', '::::'],
      /is not a URL/,
    ],
    ['port empty', () => [...joinWith(good, '--state-dir', fresh()), '--port', ''], /--port/],
  ]);

  it('leaves no state directory behind', () => {
    expect(existsSync(join(run.dir, 'fresh-state'))).toBe(false);
  });
});

describe('moor leave', () => {
  refuses([
    [
      'broker-info a directory',
      () => ['leave', path['a-directory']!, '--state-dir', joined],
      /is a directory/,
    ],
    ['broker-info empty', () => ['leave', path.empty!, '--state-dir', joined], /is empty/],
    ['broker-info huge', () => ['leave', path.huge!, '--state-dir', joined], /is larger than/],
    ['broker-info missing', () => ['leave', path.missing!, '--state-dir', joined], /does not exist/],
    ['state dir a file', () => ['leave', '--state-dir', path['a-file']!], /is not a directory/],
    ['state file damaged', () => ['leave', '--state-dir', path['state-garbage']!], /is not valid JSON/],
  ]);
});

describe('moor leave with a damaged state file', () => {
  it('leaves anyway when given the cluster ID, as its fix says', async () => {
    const dir = path['state-garbage-to-leave']!;
    const refused = await moor(topo.host('vm1'), ['leave', '--state-dir', dir]);
    expect(refused.code).not.toBe(0);
    expectOneMessage(refused.stderr, /is not valid JSON/);
    expect(refused.stderr).toMatch(/fix: to leave anyway, run `moor leave broker-info.subm --clusterid <id>/);
    const r = await moor(topo.host('vm1'), ['leave', good, '--clusterid', 'gone', '--state-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('moor agent', () => {
  refuses([
    ['state dir missing', () => ['agent', '--state-dir', path.missing!], /has not joined/],
    ['state dir a file', () => ['agent', '--state-dir', path['a-file']!], /is not a directory/],
    ['state file empty', () => ['agent', '--state-dir', path['state-empty']!], /state file .* is empty/],
    ['state file garbage', () => ['agent', '--state-dir', path['state-garbage']!], /is not valid JSON/],
    ['state file huge', () => ['agent', '--state-dir', path['state-huge']!], /is larger than/],
    ['state file a directory', () => ['agent', '--state-dir', path['state-json-is-dir']!], /is a directory/],
    [
      'metrics address garbage',
      () => ['agent', '--state-dir', joined, '--metrics-address', 'x'.repeat(5000)],
      /is not HOST:PORT/,
    ],
    [
      'metrics address not on this host',
      () => ['agent', '--state-dir', joined, '--metrics-address', '10.98.0.1:9476'],
      /EADDRNOTAVAIL/,
    ],
  ]);
});

describe('moor status, show, export, unexport', () => {
  refuses([
    [
      'config a FIFO',
      () => ['status', '--config', path.fifo!, '--state-dir', joined],
      /is not a regular file/,
    ],
    [
      'config /dev/zero',
      () => ['status', '--config', '/dev/zero', '--state-dir', joined],
      /is not a regular file/,
    ],
    ['config huge', () => ['status', '--config', path.huge!, '--state-dir', joined], /is larger than/],
    [
      'config a directory',
      () => ['status', '--config', path['a-directory']!, '--state-dir', joined],
      /is a directory/,
    ],
    ['status: state dir a file', () => ['status', '--state-dir', path['a-file']!], /is not a directory/],
    [
      'show connections: state dir a file',
      () => ['show', 'connections', '--state-dir', path['a-file']!],
      /is not a directory/,
    ],
    [
      'show exports: state file damaged',
      () => ['show', 'exports', '--state-dir', path['state-garbage']!],
      /is not valid JSON/,
    ],
    [
      'show services: state file empty',
      () => ['show', 'services', '--state-dir', path['state-empty']!],
      /is empty/,
    ],
    [
      'export: state dir a file',
      () => ['export', 'service', 'web', '-n', 'shop', '--port', '80', '--state-dir', path['a-file']!],
      /is not a directory/,
    ],
    [
      'export: a huge service name',
      () => ['export', 'service', 'w'.repeat(100_000), '-n', 'shop', '--port', '80', '--state-dir', joined],
      /name/,
    ],
    [
      'unexport: state dir missing',
      () => ['unexport', 'service', 'web', '-n', 'shop', '--state-dir', path.missing!],
      /has not joined/,
    ],
  ]);
});

describe('a damaged exports file in a joined state directory', () => {
  it.each([
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p]), /exports file .* is not a regular file/],
    [
      'huge',
      (p: string) => {
        writeFileSync(p, '');
        truncateSync(p, 8 * 2 ** 30);
      },
      /exports file .* is larger than/,
    ],
    ['garbage', (p: string) => writeFileSync(p, '[{'), /is damaged: it is not valid JSON/],
  ] as const)('%s', async (_what, plant, message) => {
    const exportsFile = join(joined, 'exports.json');
    plant(exportsFile);
    try {
      for (const args of [
        ['show', 'exports', '--state-dir', joined],
        ['export', 'service', 'web', '-n', 'shop', '--port', '80', '--state-dir', joined],
      ]) {
        const r = await moor(topo.host('vm1'), args, { timeoutMs: 30_000 });
        expect(r.code, r.stderr).not.toBe(0);
        expectOneMessage(r.stderr, message);
      }
    } finally {
      rmSync(exportsFile, { force: true });
    }
  });
});

describe('moor gateway', () => {
  const gateway = (...args: string[]) => [
    'gateway',
    '--clusterid',
    'gw',
    '--cluster-cidr',
    '10.42.0.0/16',
    ...args,
  ];
  refuses([
    ['broker-info missing', () => gateway('--broker-info', path.missing!), /does not exist/],
    ['broker-info a directory', () => gateway('--broker-info', path['a-directory']!), /is a directory/],
    ['broker-info empty', () => gateway('--broker-info', path.empty!), /is empty/],
    ['broker-info huge', () => gateway('--broker-info', path.huge!), /is larger than/],
    [
      'kubeconfig missing',
      () => gateway('--broker-info', good, '--kubeconfig', path.missing!),
      /kubeconfig .* does not exist/,
    ],
    [
      'kubeconfig a directory',
      () => gateway('--broker-info', good, '--kubeconfig', path['a-directory']!),
      /is a directory/,
    ],
    [
      'kubeconfig empty',
      () => gateway('--broker-info', good, '--kubeconfig', path.empty!),
      /kubeconfig .* is empty/,
    ],
    ['kubeconfig garbage', () => gateway('--broker-info', good, '--kubeconfig', path.garbage!), /kubeconfig/],
    [
      'state dir under /proc',
      () => gateway('--broker-info', good, '--kubeconfig', path.kubeconfig!, '--state-dir', '/proc/gw'),
      /state directory \/proc\/gw: \/proc is on proc/,
    ],
    [
      'heartbeat key missing',
      () => gateway('--broker-info', good, '--heartbeat-key-file', path.missing!),
      /heartbeat key file .* does not exist/,
    ],
    [
      'heartbeat key a directory',
      () => gateway('--broker-info', good, '--heartbeat-key-file', path['a-directory']!),
      /heartbeat key file .* is a directory/,
    ],
    [
      'renew deadline not a duration',
      () => gateway('--broker-info', good, '--renew-deadline', 'soon'),
      /--renew-deadline soon is not a duration/,
    ],
    [
      'HA timings that cannot fence',
      () => gateway('--broker-info', good, '--renew-deadline', '100ms'),
      /HA timings: request timeout 100 ms \+ renew interval 200 ms exceeds the renew deadline 100 ms/,
    ],
  ]);
});

describe('as an unprivileged user', () => {
  // Root reads anything: a real permission error needs another user.
  const asNobody = (args: string[]) =>
    topo
      .host('vm1')
      .exec(
        [
          'setpriv',
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          '--',
          process.execPath,
          MOOR_BUNDLE,
          ...args,
        ],
        {
          allowFail: true,
        },
      );

  it.each([
    [['status', '--state-dir', '/root/moor-state-of-root'], /permission denied \(EACCES\)/],
    [['show', 'connections', '--state-dir', '/root/moor-state-of-root'], /permission denied \(EACCES\)/],
    [['leave', '--state-dir', '/root/moor-state-of-root'], /permission denied \(EACCES\)/],
    [['agent', '--state-dir', '/root/moor-state-of-root'], /permission denied \(EACCES\)/],
    [['join', '/root/broker-info.subm', '--clusterid', 'x'], /permission denied \(EACCES\)/],
  ])('%j says permission denied, not "not joined"', async (args, message) => {
    const r = await asNobody(args);
    expect(r.code, r.stderr).not.toBe(0);
    expectOneMessage(r.stderr, message);
    expect(r.stderr).not.toMatch(/has not joined/);
  });
});
