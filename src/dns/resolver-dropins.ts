// Drop-in files for dnsmasq and unbound that forward only the clusterset zones to moor (pure
// rendering; src/dataplane/resolver writes them). Each file starts with MARKER, so the installer
// only ever replaces or deletes a file we wrote.
import { MARKER } from '../dataplane/resolver/dropin-install.ts';
import {
  type DnsServerAddress,
  dnsmasqServerSyntax,
  isLoopback,
  unboundServerSyntax,
} from '../dataplane/resolver/host.ts';

export { MARKER };

/**
 * dnsmasq: `server=/<zone>/<addr>[#port]` sends the zone, and only it, to us.
 * `rebind-domain-ok` keeps `stop-dns-rebind` (if the operator enabled it) from discarding our
 * answers, which are private addresses by design; without that option it does nothing.
 */
export function renderDnsmasqDropin(server: DnsServerAddress, zones: readonly string[]): string {
  const target = dnsmasqServerSyntax(server);
  return [
    MARKER,
    ...zones.map((zone) => `server=/${zone}/${target}`),
    `rebind-domain-ok=/${zones.join('/')}/`,
    '',
  ].join('\n');
}

/**
 * unbound: a forward-zone per zone. `domain-insecure` stops DNSSEC validation from rejecting the
 * zone (the signed root proves "local." does not exist); `private-domain` keeps a configured
 * `private-address` filter from stripping our private answers. unbound by default never queries
 * localhost (`do-not-query-localhost: yes`); only when our server is on loopback do we lift that.
 * The file opens with a clause, as Debian's `include-toplevel:` requires.
 */
export function renderUnboundDropin(server: DnsServerAddress, zones: readonly string[]): string {
  const target = unboundServerSyntax(server);
  const lines = [MARKER, 'server:'];
  for (const zone of zones) lines.push(`    domain-insecure: "${zone}"`, `    private-domain: "${zone}"`);
  if (isLoopback(server.address)) lines.push('    do-not-query-localhost: no');
  for (const zone of zones) {
    lines.push('forward-zone:', `    name: "${zone}"`, `    forward-addr: ${target}`);
  }
  lines.push('');
  return lines.join('\n');
}
