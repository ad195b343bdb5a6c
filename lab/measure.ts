// Parsing what iperf3 and ping report.

export interface IperfResult {
  /** Goodput at the receiving end, bits per second. */
  bitsPerSecond: number;
  /**
   * The receiver's own intervals (not omitted), summed: what this client received, when it was
   * the receiving end (a download, iperf3 -R); null otherwise.
   */
  intervalBitsPerSecond: number | null;
  /** What the sender pushed, bits per second. */
  sentBitsPerSecond: number;
  retransmits: number | null;
  /** UDP only. */
  lostPercent: number | null;
  jitterMs: number | null;
  seconds: number;
  /** iperf3's whole JSON report. */
  raw: unknown;
}

interface IperfJson {
  error?: string;
  start?: { test_start?: { reverse?: number } };
  intervals?: { sum?: { bytes?: number; seconds?: number; omitted?: boolean } }[];
  end?: {
    sum_received?: { bits_per_second?: number; seconds?: number };
    sum_sent?: { bits_per_second?: number; retransmits?: number; seconds?: number };
    sum?: { bits_per_second?: number; lost_percent?: number; jitter_ms?: number; seconds?: number };
  };
}

export function parseIperf(stdout: string, udp: boolean): IperfResult {
  let j: IperfJson;
  try {
    j = JSON.parse(stdout) as IperfJson;
  } catch {
    throw new Error(`iperf3: no JSON report: ${stdout.slice(0, 300)}`);
  }
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const end = j.end ?? {};
  if (udp) {
    const s = end.sum ?? {};
    return {
      bitsPerSecond: (s.bits_per_second ?? 0) * (1 - (s.lost_percent ?? 0) / 100),
      intervalBitsPerSecond: null,
      sentBitsPerSecond: s.bits_per_second ?? 0,
      retransmits: null,
      lostPercent: s.lost_percent ?? null,
      jitterMs: s.jitter_ms ?? null,
      seconds: s.seconds ?? 0,
      raw: j,
    };
  }
  const counted = (j.intervals ?? []).map((i) => i.sum ?? {}).filter((x) => !x.omitted);
  const secs = counted.reduce((a, x) => a + (x.seconds ?? 0), 0);
  return {
    bitsPerSecond: end.sum_received?.bits_per_second ?? 0,
    intervalBitsPerSecond: j.start?.test_start?.reverse && secs > 0 ? (8 * counted.reduce((a, x) => a + (x.bytes ?? 0), 0)) / secs : null,
    sentBitsPerSecond: end.sum_sent?.bits_per_second ?? 0,
    retransmits: end.sum_sent?.retransmits ?? null,
    lostPercent: null,
    jitterMs: null,
    seconds: end.sum_received?.seconds ?? 0,
    raw: j,
  };
}

export interface PingResult {
  sent: number;
  received: number;
  lossPct: number;
  rttAvgMs: number | null;
  rttMaxMs: number | null;
}

export function parsePing(stdout: string): PingResult {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  const sent = m ? Number(m[1]) : 0;
  const received = m ? Number(m[2]) : 0;
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(stdout);
  return {
    sent,
    received,
    lossPct: sent ? (100 * (sent - received)) / sent : 100,
    rttAvgMs: rtt ? Number(rtt[2]) : null,
    rttMaxMs: rtt ? Number(rtt[3]) : null,
  };
}
