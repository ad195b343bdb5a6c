// Guest side: a VoIP-like UDP stream (default 50 packets/s, 160-byte payloads) to the internet
// server's UDP echo, through the bond. Records each packet's round trip (null = never came back)
// and prints one JSON object when done. Usage: voip.ts <host> <port> <seconds> [pps]
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

export interface VoipTrace {
  /** Unix ms of packet 0; packet i was sent at start_ms + i * interval_ms. */
  start_ms: number;
  interval_ms: number;
  /** Round trip of each packet in ms, null when no echo came back. */
  rtt_ms: (number | null)[];
}

const [host = '203.0.113.10', port = '8081', seconds = '10', pps = '50'] = process.argv.slice(2);
const interval = 1000 / Number(pps);
const n = Math.round(Number(seconds) * Number(pps));
const sentAt: number[] = [];
const rtt: (number | null)[] = new Array(n).fill(null);
const sock = dgram.createSocket('udp4');
sock.on('message', (m) => {
  const seq = m.readUInt32BE(0);
  if (seq < n && rtt[seq] === null) rtt[seq] = performance.now() - sentAt[seq]!;
});
const startMs = Date.now();
const t0 = performance.now();
const payload = Buffer.alloc(160);
let i = 0;
function tick(): void {
  // Catch up on the schedule rather than drift: packet i leaves at t0 + i * interval.
  while (i < n && performance.now() >= t0 + i * interval) {
    payload.writeUInt32BE(i, 0);
    sentAt[i] = performance.now();
    sock.send(payload, Number(port), host);
    i++;
  }
  if (i < n) setTimeout(tick, Math.max(1, t0 + i * interval - performance.now()));
  else setTimeout(done, 3000);
}
function done(): void {
  const trace: VoipTrace = { start_ms: startMs, interval_ms: interval, rtt_ms: rtt.map((r) => (r === null ? null : Math.round(r * 10) / 10)) };
  process.stdout.write(JSON.stringify(trace) + '\n');
  sock.close();
}
tick();
