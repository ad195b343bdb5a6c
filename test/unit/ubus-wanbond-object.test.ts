// The `wanbond` methods as plain functions (shared by ubus and the control socket), with the
// TEST DOUBLE agent (test/doubles/agent-api.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UbusStatus } from '../../src/ubus/message.ts';
import { READ_METHODS, WANBOND_SIGNATURE, WRITE_METHODS, callWanbond, redact } from '../../src/ubus/wanbond-object.ts';
import { FakeAgentApi } from '../doubles/agent-api.ts';

describe('wanbond object methods', () => {
  it('every method is either a read or a write method (for the rpcd ACL)', () => {
    assert.deepEqual([...READ_METHODS, ...WRITE_METHODS].sort(), Object.keys(WANBOND_SIGNATURE).sort());
  });

  it('maps arguments and results to ubus status codes', async () => {
    const api = new FakeAgentApi();
    assert.equal((await callWanbond(api, 'status', {})).status, UbusStatus.OK);
    assert.equal((await callWanbond(api, 'status', undefined)).status, UbusStatus.OK);
    assert.equal((await callWanbond(api, 'status', { ubus_rpc_session: 'abc', extra: 1 })).status, UbusStatus.OK);
    assert.equal((await callWanbond(api, 'status', 'x')).status, UbusStatus.INVALID_ARGUMENT);
    assert.equal((await callWanbond(api, 'toString', {})).status, UbusStatus.METHOD_NOT_FOUND);
    assert.equal((await callWanbond(api, '__proto__', {})).status, UbusStatus.METHOD_NOT_FOUND);
    const bad = await callWanbond(api, 'set_link', { link: '', enabled: true });
    assert.equal(bad.status, UbusStatus.INVALID_ARGUMENT);
    assert.match(bad.message ?? '', /link/);
    assert.equal((await callWanbond(api, 'set_link', { link: 'wan', enabled: 1 })).status, UbusStatus.INVALID_ARGUMENT);
    const nf = await callWanbond(api, 'set_link', { link: 'lte9', enabled: true });
    assert.equal(nf.status, UbusStatus.NOT_FOUND);
    assert.equal(nf.message, "no link 'lte9'");
    assert.deepEqual(api.calls.filter((c) => c.method === 'setLink').map((c) => c.args), [['lte9', true]]);
  });

  it('an agent that throws gives UNKNOWN_ERROR, not a crash', async () => {
    const api = new FakeAgentApi();
    api.reload = async () => {
      throw new Error('disk on fire');
    };
    const r = await callWanbond(api, 'reload', {});
    assert.equal(r.status, UbusStatus.UNKNOWN_ERROR);
    assert.equal(r.message, 'disk on fire');
  });

  it('redacts anything named like key material, at any depth', () => {
    assert.deepEqual(
      redact({ a: 1, private_key: 'x', links: [{ name: 'wan', preshared_key: 'y', key: 'z', monkey: 'ok', public_key_file: 'p' }], mqtt: { password: 'q', broker: 'b' } }),
      { a: 1, links: [{ name: 'wan', monkey: 'ok' }], mqtt: { broker: 'b' } },
    );
  });
});
