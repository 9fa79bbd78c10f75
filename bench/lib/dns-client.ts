// A minimal UDP DNS client for checking that two servers give the same answers.
import { createSocket } from 'node:dgram';
import { TYPE_A } from '../../src/dns/constants.ts';
import { decodeMessage, encodeQuery } from '../../src/dns/message.ts';

export interface Answer {
  rcode: number;
  /** "ip/ttl", sorted. */
  records: string[];
}

export async function queryA(port: number, name: string, timeoutMs = 2000): Promise<Answer> {
  const socket = createSocket('udp4');
  try {
    const id = Math.floor(Math.random() * 65536);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer for ${name} from port ${port}`)), timeoutMs);
      socket.on('message', (msg) => {
        if (msg.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        resolve(msg);
      });
      socket.on('error', reject);
      socket.send(encodeQuery({ id, name, type: TYPE_A }), port, '127.0.0.1');
    });
    const decoded = decodeMessage(reply);
    if (!decoded.ok) throw new Error(`bad reply for ${name}: ${decoded.reason}`);
    const records = decoded.message.answers
      .map((r) => (r.rdata.kind === 'A' ? `${r.rdata.address}/${r.ttl}` : `type${r.type}`))
      .sort();
    return { rcode: decoded.message.rcode, records };
  } finally {
    socket.close();
  }
}
