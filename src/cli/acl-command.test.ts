import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAcl } from './acl-command.ts';
import { runController } from './controller-command.ts';
import { ACL_HISTORY_RETENTION, CLUSTER_ID } from './specs/acl.ts';

// Argument errors come before any cluster access, so no API server is needed here; the e2e
// test (test/e2e/egress-acl-firewall.test.ts) runs the commands against a real one.
describe('moor acl arguments', () => {
  it('refuses a bad IP, a bad --at, a bad --workload and an unknown subcommand with a fix', async () => {
    await expect(runAcl(['who', '300.1.1.1'])).rejects.toThrow(/"300.1.1.1" is not an IPv4 address/);
    await expect(runAcl(['who', '203.0.113.20', '--at', 'last tuesday'])).rejects.toThrow(
      /--at "last tuesday" is not a time/,
    );
    await expect(runAcl(['diff'])).rejects.toThrow(/give the earlier export file/);
    await expect(runAcl(['diff', '/nonexistent/acl.json'])).rejects.toThrow(/does not exist/);
    await expect(runAcl(['export', '--output', 'pdf'])).rejects.toThrow(/pdf/);
    await expect(runAcl(['export', '--workload', 'checkout'])).rejects.toThrow(
      /"checkout" is not KIND\/NAME/,
    );
    await expect(runAcl(['nope'])).rejects.toThrow(/unknown subcommand "nope"/);
  });

  it('--clusterset on a host that has not joined, or with a missing broker kubeconfig, says so', async () => {
    await expect(runAcl(['export', '--clusterset', '--state-dir', '/nonexistent/moor'])).rejects.toThrow(
      /has not joined a clusterset/,
    );
    await expect(
      runAcl(['export', '--clusterset', '--broker-kubeconfig', '/nonexistent/kc']),
    ).rejects.toThrow(/does not exist/);
  });

  it('withdraw needs --clusterset, --cluster-id and a readable broker kubeconfig, said with the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moor-withdraw-'));
    const garbled = join(dir, 'kubeconfig');
    writeFileSync(garbled, 'clusters: [unclosed\n');
    const kc = ['--broker-kubeconfig', garbled];
    try {
      await expect(runAcl(['withdraw', '--cluster-id', 'cluster-b', ...kc])).rejects.toThrow(
        /give --clusterset/,
      );
      await expect(runAcl(['withdraw', '--clusterset', ...kc])).rejects.toThrow(/needs --cluster-id/);
      await expect(runAcl(['withdraw', '--clusterset', '--cluster-id', 'cluster-b'])).rejects.toThrow(
        /needs --broker-kubeconfig/,
      );
      await expect(runAcl(['withdraw', '--clusterset', '--cluster-id', 'Bad_ID', ...kc])).rejects.toThrow(
        /not a valid DNS-1123 label/,
      );
      await expect(runAcl(['withdraw', '--clusterset', '--cluster-id', 'cluster-b', ...kc])).rejects.toThrow(
        /kubeconfig .*: it is not YAML/,
      );
      await expect(
        runAcl([
          'withdraw',
          '--clusterset',
          '--cluster-id',
          'cluster-b',
          '--broker-kubeconfig',
          join(dir, 'none'),
        ]),
      ).rejects.toThrow(/does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the controller cluster ID option refuses what Submariner would', () => {
    const ok = CLUSTER_ID.validate as (v: string) => boolean;
    expect(ok('cluster-a')).toBe(true);
    expect(ok('Cluster_A')).toBe(false);
    expect(ok('x'.repeat(64))).toBe(false);
  });

  it('the controller publishes to the broker only with --cluster-id (alone it names DNS answers)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moor-ctl-'));
    const kc = join(dir, 'kubeconfig');
    writeFileSync(
      kc,
      'apiVersion: v1\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    try {
      await expect(runController(['--kubeconfig', kc, '--broker-kubeconfig', kc])).rejects.toThrow(
        /publishing to the broker \(--broker-kubeconfig\) needs --cluster-id/,
      );
      await expect(
        runController(['--kubeconfig', kc, '--broker-kubeconfig', kc, '--cluster-id', 'Bad_ID']),
      ).rejects.toThrow(/not a valid DNS-1123 label/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the controller retention option refuses 0 and junk', () => {
    const ok = ACL_HISTORY_RETENTION.validate as (v: string) => boolean;
    expect(ok('90d')).toBe(true);
    expect(ok('0d')).toBe(false);
    expect(ok('0')).toBe(false);
    expect(ok('forever')).toBe(false);
  });
});
