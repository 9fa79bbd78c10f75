// Runs inside a test namespace (started with `ip netns exec`): accepts connections on a unix
// socket and forwards each to a TCP address inside the namespace. Unix sockets live in the
// file system, which all namespaces share, so the test runner can reach a server inside a
// namespace without the root namespace ever routing a test subnet.
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [socketPath, host, port] = process.argv.slice(2);
if (!socketPath || !host || !port) {
  process.stderr.write('usage: unix-bridge-in-namespace.ts SOCKET HOST PORT\n');
  process.exit(2);
}
rmSync(socketPath, { force: true });
const server = createServer((inbound) => {
  const outbound = connect(Number(port), host);
  inbound.pipe(outbound).pipe(inbound);
  const close = () => {
    inbound.destroy();
    outbound.destroy();
  };
  inbound.on('error', close);
  outbound.on('error', close);
});
server.listen(socketPath, () => process.stdout.write(`listening on ${socketPath}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
