// `moor diagnose`.
import type { CommandSpec } from '../spec/types.ts';
import { STATE_DIR } from './shared.ts';

export const DIAGNOSE_SPEC: CommandSpec = {
  name: 'diagnose',
  summary: 'write a support bundle (tar.gz) with secrets redacted',
  description: [
    "Collect what support needs into one tar.gz: moor status and connections, `wg show` without keys, addresses, routes and rules, the nftables ruleset, resolver state, versions, the state directory's files with secrets removed, and recent logs (the agent's journal when systemd runs it, and the wireguard-go log). The private key, the PSK (and the WireGuard key derived from it), broker tokens and CA material never appear in it: every collected text is scrubbed of them before it is written.",
  ],
  positionals: [],
  options: [
    {
      name: 'output',
      short: 'o',
      kind: 'string',
      arg: 'FILE',
      description: 'where to write the bundle',
      defaultText: './moor-diagnose-<host>-<time>.tar.gz',
      complete: 'file',
    },
    {
      name: 'log-lines',
      kind: 'int',
      arg: 'N',
      min: 1,
      max: 100000,
      description: 'how many recent lines of each log to include',
      default: 500,
      config: 'command',
    },
    STATE_DIR,
  ],
};
