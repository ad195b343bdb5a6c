// The status page in a real headless chromium, served by the LuCI test double (harness: page
// template, rpcd-style sessions and ACLs from the app's acl.d file, uhttpd-style ubus JSON-RPC)
// over the agent's real `wanbond` method table and a recorded agent state (RecordedAgent).
// Polling runs every second here (L.env.pollinterval; 5 s on a router).
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { artifactPath, startRig, type Rig } from '../doubles/luci/browser.ts';

const STATUS = '/cgi-bin/luci/admin/network/wanbond/status';
const WAIT = { timeout: 15_000 };

async function states(page: Page): Promise<Record<string, string>> {
  return page.$$eval('#wanbond-links tr[data-link]', (rows) =>
    Object.fromEntries(rows.map((r) => [r.getAttribute('data-link'), r.querySelector('[data-state]')?.getAttribute('data-state') ?? ''])),
  );
}

/** The links whose row carries the Express badge. */
async function expressLinks(page: Page): Promise<string[]> {
  return page.$$eval('#wanbond-links tr[data-link] .wanbond-express', (b) => b.map((x) => x.closest('tr')!.getAttribute('data-link') ?? ''));
}
const EXPRESS_TITLE = "Small non-TCP packets (calls, DNS, games) leave by this link, bypassing the bond's delay equalisation";

async function linePoints(page: Page, link: string, series: string): Promise<string> {
  return page.$eval(`#wanbond-chart-${series === 'rtt' ? 'rtt' : 'rate'} polyline[data-link="${link}"][data-series="${series}"]`, (e) => e.getAttribute('points') ?? '');
}

describe('LuCI status page', { timeout: 180_000 }, () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    await rig?.close();
  });
  afterEach(async () => {
    await rig.closePages();
  });

  it('shows every link with its state, and a cut link changes its row on the next poll without a reload', async () => {
    const { page } = await rig.pageAs('root');
    await page.goto(rig.harness.url + STATUS);
    await page.waitForSelector('#wanbond-links tr[data-link="starlink"]', WAIT);

    assert.deepEqual(await states(page), { lte1: 'up', lte2: 'degraded', dsl: 'up', starlink: 'backup' });
    assert.equal(await page.textContent('#wanbond-health'), 'Degraded');
    assert.equal(await page.textContent('#wanbond-concentrator'), 'Reachable');
    assert.match((await page.textContent('#wanbond-members')) ?? '', /lte1, lte2, dsl/);
    assert.match((await page.textContent('tr[data-link="lte2"]')) ?? '', /above failure_latency/);
    // The one link whose status says express: a badge in its State cell, its tooltip saying what it means.
    assert.deepEqual(await expressLinks(page), ['dsl']);
    assert.equal(await page.textContent('tr[data-link="dsl"] .wanbond-express'), 'Express');
    assert.equal(await page.getAttribute('tr[data-link="dsl"] .wanbond-express', 'title'), EXPRESS_TITLE);
    assert.equal(await page.getAttribute('tr[data-link="dsl"] .wanbond-express', 'class'), 'label wanbond-express');
    // Each rate beside the link's capacity; a measured one marked as such.
    assert.deepEqual(await page.$$eval('#wanbond-links tr[data-link] .wanbond-capacity', (c) => c.map((x) => `${x.closest('tr')!.getAttribute('data-link')} ${x.textContent} ${x.getAttribute('title')}`)), [
      'lte1 of 40.0 Mbit/s Capacity as configured', 'lte1 of 5.0 Mbit/s Capacity as configured',
      'lte2 of ~11.8 Mbit/s Capacity measured by packet trains', 'lte2 of ~1.9 Mbit/s Capacity measured by packet trains',
      'dsl of 16.0 Mbit/s Capacity as configured', 'dsl of 2.5 Mbit/s Capacity as configured',
    ]);

    await page.evaluate(() => { (window as unknown as { notReloaded: boolean }).notReloaded = true; });
    rig.agent.cut('lte1');
    await page.waitForSelector('tr[data-link="lte1"] [data-state="down"]', WAIT);

    assert.deepEqual(await states(page), { lte1: 'down', lte2: 'degraded', dsl: 'up', starlink: 'backup' });
    const row = (await page.textContent('tr[data-link="lte1"]')) ?? '';
    assert.match(row, /lost 5 probes in a row/);
    assert.match(row, /100\.0 %/);
    assert.match((await page.textContent('#wanbond-members')) ?? '', /^In the bondlte2, dsl$/);
    assert.deepEqual(await expressLinks(page), ['dsl'], 'express stays on dsl');
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'updated in place, not reloaded');

    await page.screenshot({ path: artifactPath('luci-status-1280.png'), fullPage: true });
  });

  it('draws a live chart whose lines move with every poll', async () => {
    const { page } = await rig.pageAs('root');
    await page.goto(rig.harness.url + STATUS);
    await page.waitForSelector('#wanbond-chart-rtt polyline[data-link="dsl"]', WAIT);
    const count = async () => (await linePoints(page, 'dsl', 'rtt')).split(' ').length;
    const first = await linePoints(page, 'dsl', 'rtt');
    await page.waitForFunction((n) => {
      const e = document.querySelector('#wanbond-chart-rtt polyline[data-link="dsl"][data-series="rtt"]');
      return (e?.getAttribute('points') ?? '').split(' ').length >= n;
    }, first.split(' ').length + 2, WAIT);
    const later = await linePoints(page, 'dsl', 'rtt');
    assert.notEqual(later, first);
    assert.ok((await count()) >= 3);
    // every link has an RTT line and a throughput line pair (down solid, up dashed)
    for (const l of ['lte2', 'dsl', 'starlink']) {
      assert.ok((await linePoints(page, l, 'down')).length > 0, `${l} down line`);
      assert.ok((await linePoints(page, l, 'up')).length > 0, `${l} up line`);
    }
    // points stay inside the drawing area
    for (const p of later.split(' ')) {
      const [x, y] = p.split(',').map(Number);
      assert.ok(x! >= 0 && x! <= 600 && y! >= 0 && y! <= 170, `point ${p} inside the chart`);
    }
  });

  it('lets a writer take a link out of the bond and put it back', async () => {
    const { page } = await rig.pageAs('root');
    await page.goto(rig.harness.url + STATUS);
    await page.click('tr[data-link="dsl"] button[data-action="take-out"]', WAIT);
    await page.waitForSelector('tr[data-link="dsl"] [data-state="disabled"]', WAIT);
    assert.deepEqual(rig.agent.setLinkCalls.at(-1), { link: 'dsl', enabled: false });
    assert.match((await page.textContent('tr[data-link="dsl"]')) ?? '', /taken out of the bond/);
    // Express left dsl with it, for lte2, the only link left carrying (lte1 is cut).
    await page.waitForSelector('tr[data-link="lte2"] .wanbond-express', WAIT);
    assert.deepEqual(await expressLinks(page), ['lte2']);

    // lte1 is cut and dsl out: lte2 alone carries traffic, so taking it out asks first
    const calls = rig.agent.setLinkCalls.length;
    await page.click('tr[data-link="lte2"] button[data-action="take-out"]', WAIT);
    await page.waitForSelector('body.modal-overlay-active #wanbond-confirm-take-out', WAIT);
    assert.match((await page.textContent('.modal')) ?? '', /lte2 is the only link carrying traffic/);
    await page.click('.modal button:has-text("Cancel")');
    assert.equal(rig.agent.setLinkCalls.length, calls, 'cancelled: nothing sent');
    assert.equal(await page.evaluate(() => document.body.classList.contains('modal-overlay-active')), false);

    await page.click('tr[data-link="dsl"] button[data-action="put-back"]', WAIT);
    await page.waitForSelector('tr[data-link="dsl"] [data-state="up"]', WAIT);
    assert.deepEqual(rig.agent.setLinkCalls.at(-1), { link: 'dsl', enabled: true });
    assert.deepEqual(await expressLinks(page), ['dsl'], 'back on the lowest round trip');
  });

  it('shows a read-only user no take-out buttons, and refuses set_link when called anyway', async () => {
    const { page, sid } = await rig.pageAs('viewer');
    await page.goto(rig.harness.url + STATUS);
    await page.waitForSelector('#wanbond-links tr[data-link="dsl"]', WAIT);
    assert.equal(await page.evaluate(() => L.hasViewPermission()), false);
    assert.equal(await page.$$eval('#wanbond-links button', (b) => b.length), 0);
    assert.equal(await page.$$eval('#wanbond-links tr.table-titles th', (t) => t.length), 9);

    const calls = rig.agent.setLinkCalls.length;
    const outcome = await page.evaluate(async () => {
      const rpc = await L.require('rpc');
      const setLink = rpc.declare({ object: 'wanbond', method: 'set_link', params: ['link', 'enabled'] });
      try {
        return { resolved: await setLink('lte2', false) };
      } catch (e) {
        return { rejected: String((e as Error).message) };
      }
    });
    assert.match(String(outcome.rejected), /Access denied/);
    assert.equal(rig.agent.setLinkCalls.length, calls, 'the agent never saw the call');
    const denied = rig.harness.rpcLog.filter((e) => e.sid === sid && e.method === 'set_link');
    assert.deepEqual(denied.map((e) => e.error?.code), [-32002]);
    // reading stays allowed
    assert.ok(rig.harness.rpcLog.some((e) => e.sid === sid && e.method === 'status' && e.result?.[0] === 0));
  });

  it('puts a lost concentrator first: the whole bond is offline whatever the links say', async () => {
    const { page } = await rig.pageAs('root');
    await page.goto(rig.harness.url + STATUS);
    await page.waitForSelector('#wanbond-concentrator', WAIT);
    rig.agent.setConcentratorReachable(false);
    try {
      await page.waitForFunction(() => document.querySelector('#wanbond-concentrator')?.textContent === 'Unreachable', null, WAIT);
      assert.equal(await page.textContent('#wanbond-health'), 'Offline');
      assert.match((await page.textContent('#wanbond-health-row')) ?? '', /Concentrator unreachable/);
      assert.equal(await page.getAttribute('#wanbond-health', 'class'), 'label important');
    } finally {
      rig.agent.setConcentratorReachable(true);
    }
    await page.waitForFunction(() => document.querySelector('#wanbond-concentrator')?.textContent === 'Reachable', null, WAIT);
    assert.notEqual(await page.textContent('#wanbond-health'), 'Offline');
  });

  it('says so when the agent does not answer, and recovers by itself when it is back', async () => {
    const { page } = await rig.pageAs('root');
    await page.goto(rig.harness.url + STATUS);
    await page.waitForSelector('#wanbond-links tr[data-link="dsl"]', WAIT);
    rig.harness.agentRunning = false;
    try {
      await page.waitForSelector('#wanbond-unreachable', WAIT);
      assert.match((await page.textContent('#wanbond-unreachable')) ?? '', /does not answer.*Object not found/s);
    } finally {
      rig.harness.agentRunning = true;
    }
    await page.waitForSelector('#wanbond-unreachable', { state: 'detached', ...WAIT });
    assert.equal(await page.$$eval('#wanbond-links tr[data-link]', (r) => r.length), 4);
  });

  it('reads well on a phone (390 px)', async () => {
    const { page } = await rig.pageAs('root', 390);
    await page.goto(rig.harness.url + STATUS);
    await page.waitForSelector('#wanbond-links tr[data-link="lte1"] [data-state="down"]', WAIT);
    await page.waitForFunction(() => (document.querySelector('#wanbond-chart-rtt polyline')?.getAttribute('points') ?? '').split(' ').length >= 3, null, WAIT);
    // nothing sticks out sideways: the page does not scroll horizontally
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await page.screenshot({ path: artifactPath('luci-status-390.png'), fullPage: true });
  });
});

declare const L: {
  hasViewPermission(): boolean | null;
  require(name: string): Promise<{ declare(o: object): (...a: unknown[]) => Promise<unknown> }>;
};
