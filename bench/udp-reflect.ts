// The ceiling of a Node UDP server on this machine, for the DNS benchmark: it answers every query
// by sending it back with the response bit set (no parsing, no records), through node:dgram the
// way moor's DNS server does. Run: npx node bench/udp-reflect.ts --port 5354
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { address: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } },
});
const socket = createSocket('udp4');
socket.on('message', (msg, peer) => {
  if (msg.length < 12) return;
  msg[2] = (msg[2] as number) | 0x80; // QR: this is a response
  socket.send(msg, peer.port, peer.address);
});
socket.bind(Number(values.port), values.address, () => {
  console.log(`UDP reflector listening on ${values.address}:${socket.address().port}`);
});
const stop = () => socket.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
