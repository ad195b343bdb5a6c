import { test } from 'node:test';
import assert from 'node:assert/strict';
import { earliestArrival } from '../../src/health/late-read.ts';

const I = 100; // probe interval, ms

test('late read: read on time, a datagram arrived when it was read', () => {
  assert.equal(earliestArrival(1050, 1000, [], I), 1050);
  // A late span long over says nothing about this read.
  assert.equal(earliestArrival(5050, 5000, [{ from: 1000, to: 1460 }], I), 5050);
});

test('late read: read before the tick that notices a freeze, it may have arrived when this end stopped', () => {
  // The lab's case: last tick at 1000, a 460 ms freeze, a train's first packet read at 1440.
  assert.equal(earliestArrival(1440, 1000, [], I), 1000);
  // Two and a half intervals without a tick is not yet late.
  assert.equal(earliestArrival(1250, 1000, [], I), 1250);
});

test('late read: read just after the tick that recorded the freeze, the same', () => {
  assert.equal(earliestArrival(1465, 1460, [{ from: 1000, to: 1460 }], I), 1000);
  // Read more than an interval after that tick: this end ran on time meanwhile.
  assert.equal(earliestArrival(1580, 1570, [{ from: 1000, to: 1460 }], I), 1580);
  // Of two spans, the one that reaches this read counts.
  assert.equal(earliestArrival(1465, 1460, [{ from: 200, to: 600 }, { from: 1000, to: 1460 }], I), 1000);
});
