// The same checks as stack-core, with WireGuard in userspace (wireguard-go), as wanbond runs on a
// kernel without WireGuard (some VPS kernels, Debian's own user-mode Linux). Links at 600 kbit/s:
// wireguard-go on the lab's one emulated CPU carries a few Mbit/s in all.
import { fileURLToPath } from 'node:url';
import { labTest } from './stack-lib.ts';

const core = fileURLToPath(new URL('./stack-core.test.ts', import.meta.url));
labTest(core, 'stack core with wireguard-go (no WireGuard in the kernel)', 600, [],
  { WANBOND_WG_USERSPACE: '1', STACK_PROFILE: 'lab/profiles/equal-3-slow.json' });
