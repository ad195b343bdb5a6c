// The internet server's tiny services (plain node, no tsx: it starts fast in the guest).
//   node whoami.mjs serve <tcpPort> <udpPort>   TCP: first line is "<address the connection came from>",
//                                               then echo; UDP: echo every datagram.
//   node whoami.mjs ask <host> <port> [bindAddress]   prints the first line the server sent.
import net from 'node:net';
import dgram from 'node:dgram';

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'serve') {
  net.createServer((sock) => {
    sock.on('error', () => {});
    sock.write(`${String(sock.remoteAddress).replace(/^::ffff:/, '')}\n`);
    sock.pipe(sock);
  }).listen(Number(a), () => console.log(`whoami: tcp ${a}`));
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.bind(Number(b), () => console.log(`whoami: udp ${b}`));
} else if (mode === 'ask') {
  const sock = net.connect({ host: a, port: Number(b), localAddress: c || undefined, timeout: 8000 });
  let buf = '';
  sock.on('data', (d) => {
    buf += d.toString();
    const i = buf.indexOf('\n');
    if (i >= 0) { console.log(buf.slice(0, i)); sock.destroy(); }
  });
  sock.on('timeout', () => { console.error('whoami: timeout'); process.exit(2); });
  sock.on('error', (e) => { console.error(`whoami: ${e.message}`); process.exit(1); });
} else {
  console.error('usage: whoami.mjs serve <tcpPort> <udpPort> | ask <host> <port> [bind]');
  process.exit(64);
}
