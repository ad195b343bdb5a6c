// The lab itself, on the real kernel (user-mode Linux), two sites: reachability through every modem and the
// carrier NAT, the addresses the internet sees, netem shaping, a live cut, state dumps.
import { loadProfile } from '../../lab/profile.ts';
import { runInLab } from '../../lab/run.ts';
import { defineLabTests } from '../../lab/testing.ts';

const profile = loadProfile('hetero-3');
const run = await runInLab({ scenario: 'lab/scenarios/smoke-topology.ts', args: ['hetero-3', '2'], timeoutSec: 600 });
const links = profile.links.map((_, i) => `wan${i + 1}`);
defineLabTests(run, [
  'router starts without a default route',
  'lan client has no path out before the stack',
  'concentrator reaches the server',
  'server sees the concentrator as itself',
  ...links.flatMap((n) => [`router reaches the server via ${n}`, `${n} round trip follows the profile`, `server sees ${n}'s public address`]),
  'wan2 modem sits behind carrier-grade NAT',
  ...links.flatMap((n) => [`router2 reaches the server via ${n}`, `router2's ${n} round trip follows the profile`,
    `server sees router2's ${n}'s public address`]),
  "router2's wan2 modem sits behind carrier-grade NAT",
  'the second site reaches the internet from addresses of its own',
  ...profile.links.map((l, i) => `wan${i + 1} download is shaped to ${l.rate_down_kbit} kbit/s`),
  `wan1 upload is shaped to ${profile.links[0]!.rate_up_kbit} kbit/s`,
  'a cut of wan1 stops its traffic',
  'the other links carry on during the cut',
  'wan1 carries traffic again after the cut',
  'dumpState is stable across unrelated changes',
  'dumpState sees a new rule',
  'destroy removes every namespace',
]);
