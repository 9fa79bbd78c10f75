import { describe, expect, it } from 'vitest';
import { runAcl } from './acl-command.ts';
import { ACL_HISTORY_RETENTION } from './specs/acl.ts';

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

  it('the controller retention option refuses 0 and junk', () => {
    const ok = ACL_HISTORY_RETENTION.validate as (v: string) => boolean;
    expect(ok('90d')).toBe(true);
    expect(ok('0d')).toBe(false);
    expect(ok('0')).toBe(false);
    expect(ok('forever')).toBe(false);
  });
});
