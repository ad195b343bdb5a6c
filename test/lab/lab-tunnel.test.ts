// The lab carries the data plane the stack builds: wireguard-go in router and concentrator side
// by side, a tunnel per modem (one through carrier NAT), a gretap inside each, a balance-rr bond.
import { runInLab } from '../../lab/run.ts';
import { defineLabTests } from '../../lab/testing.ts';

const run = await runInLab({ scenario: 'lab/scenarios/smoke-tunnel.ts', args: ['default'], timeoutSec: 600 });
defineLabTests(run, [
  'each namespace has its own /var/run/wireguard',
  'wireguard-go tunnel over wan1 carries traffic',
  'conc sees wg1\'s peer at 198.18.1.2',
  'wireguard-go tunnel over wan2 (through carrier NAT) carries traffic',
  'conc sees wg2\'s peer at 198.18.100.2',
  'the bond of two gretaps passes traffic',
  'balance-rr sends over both gretaps',
  'a TCP download runs through the bond',
  'conc runs its own wireguard-go instances',
]);
