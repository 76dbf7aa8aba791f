import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

/** A tiny authoritative DNS server on 127.0.0.1 whose A records a test changes while the gateway runs. */
export interface TestDnsServer {
  readonly port: number;
  /** Answers for `name` from now on (an empty list answers NXDOMAIN). */
  set(name: string, addresses: readonly string[]): void;
  close(): Promise<void>;
}

export async function startDnsServer(): Promise<TestDnsServer> {
  const records = new Map<string, readonly string[]>();
  const socket = createSocket('udp4');
  socket.on('message', (message, peer) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const addresses = question.type === 'A' ? (records.get(question.name.toLowerCase()) ?? []) : [];
    const known = records.has(question.name.toLowerCase());
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      // RCODE 3 (NXDOMAIN) for unknown names; an empty NOERROR answer for AAAA of a known one.
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3),
      questions: [question],
      answers: addresses.map((data) => ({
        type: 'A' as const,
        name: question.name,
        ttl: 0,
        class: 'IN' as const,
        data,
      })),
    });
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    set: (name, addresses) => void records.set(name.toLowerCase(), addresses),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
