// What `moor status` prints when moor did not configure the host's resolver itself: how to send
// the clusterset zones to moor with whatever resolver the operator runs. moor never edits
// /etc/resolv.conf: glibc cannot send one domain to one server, so any edit there would route
// every lookup of the host through moor.

import { type DnsServerAddress, resolvedServerSyntax } from '../dataplane/resolver/host.ts';
import { MARKER, renderDnsmasqDropin, renderUnboundDropin } from './resolver-dropins.ts';

export interface InstructionsInput {
  readonly server: DnsServerAddress;
  readonly zones: readonly string[];
  readonly interfaceName: string;
  /** Why nothing was configured automatically. */
  readonly reason: string;
}

export function manualInstructions(input: InstructionsInput): string {
  const { server, zones, interfaceName: ifname } = input;
  const shownServer = server.port === 53 ? server.address : `${server.address} port ${server.port}`;
  const dig = `dig @${server.address}${server.port === 53 ? '' : ` -p ${server.port}`}`;
  // Without our marker line: a file the operator writes is theirs, and moor leaves it alone.
  const indent = (text: string) =>
    text
      .trimEnd()
      .split('\n')
      .filter((line) => line !== MARKER)
      .map((line) => `      ${line}`)
      .join('\n');
  return [
    `moor answers ${zones.map((z) => `*.${z}`).join(', ')} at ${shownServer}, but did not configure this`,
    `host's resolver: ${input.reason}.`,
    'Nothing was changed; /etc/resolv.conf is never edited. Route the zones to moor with your resolver:',
    '',
    '  systemd-resolved (per link; re-run after the link is re-created, or let moor do it):',
    `      resolvectl dns ${ifname} ${resolvedServerSyntax(server)}`,
    `      resolvectl domain ${ifname} ${zones.map((z) => `~${z}`).join(' ')}`,
    `      resolvectl default-route ${ifname} false`,
    '',
    '  dnsmasq: put these lines in a file of its conf-dir (e.g. /etc/dnsmasq.d/moor-clusterset.conf),',
    '  then restart dnsmasq (SIGHUP does not re-read server= lines):',
    indent(renderDnsmasqDropin(server, zones)),
    '',
    '  unbound: put this in /etc/unbound/unbound.conf.d/moor-clusterset.conf, then `unbound-control reload`:',
    indent(renderUnboundDropin(server, zones)),
    '',
    '  plain /etc/resolv.conf: not recommended. A first "nameserver" line for moor would send every',
    '  lookup of the host to moor first (it answers REFUSED outside its zones and glibc then asks the',
    '  next server, at the cost of one round-trip per lookup); resolv.conf cannot name a port either.',
    '',
    `  Check:  ${dig} <service>.<namespace>.svc.${zones[0] ?? 'clusterset.local'} A +short`,
  ].join('\n');
}
