// Run by stack-exposure.test.ts inside a lab namespace: the health channel's own ProbeSocket
// (src/health), bound where the agent binds it (this end's tunnel address on link `id`, port 5790),
// with the agent's GarbageCounter, plus a plain UDP sink on the bond address. Prints one JSON line
// whenever something arrives: what reaches the probe socket and the bond is what the firewall let in.
// argv: <tunnel local> <tunnel peer> <link id> <bond address> <sink port>
import dgram from 'node:dgram';
import { ProbeSocket } from '../../src/health/probe-socket.ts';
import { GarbageCounter } from '../../src/health/probe-message.ts';

const [local, peer, id, bondAddr, sinkPort] = process.argv.slice(2) as [string, string, string, string, string];
const garbage = new GarbageCounter();
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const counted = garbage.add.bind(garbage);
garbage.add = (why) => {
  counted(why);
  say({ garbage: garbage.counts });
};
const probe = new ProbeSocket({ link: Number(id), local, peer, garbage, onMessage: (m) => say({ message: m.t }), clock: () => Date.now() });
const sink = dgram.createSocket('udp4');
sink.on('message', (buf, r) => say({ sink: buf.toString(), from: r.address }));
await new Promise<void>((res) => sink.bind(Number(sinkPort), bondAddr, () => res()));
while (!(await probe.open())) await new Promise((r) => setTimeout(r, 200));
say({ ready: true });
process.on('SIGTERM', () => {
  probe.close();
  sink.close();
  process.exit(0);
});
