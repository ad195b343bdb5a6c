// The settings page (a form.Map over /etc/config/wanbond) in a real headless chromium, served
// by the LuCI test double: rpcd-style staged uci changes per session, LuCI's apply endpoints,
// the procd reload trigger, and the agent's reload answering with the real config loader
// (src/config/load.ts) over the committed file.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { formatConfigError, loadConfigText } from '../../src/config/load.ts';
import { artifactPath, fixture, startRig, type Rig } from '../doubles/luci/browser.ts';

const SETTINGS = '/cgi-bin/luci/admin/network/wanbond/settings';
const WAIT = { timeout: 15_000 };

const field = (page: Page, section: string, option: string): Locator => page.locator(`[id="widget.cbid.wanbond.${section}.${option}"]`);

async function open(rig: Rig, user: string, width = 1280): Promise<Page> {
  const { page } = await rig.pageAs(user, width);
  await page.goto(rig.harness.url + SETTINGS);
  await page.waitForSelector('.cbi-page-actions .cbi-button-apply', WAIT);
  return page;
}

async function type(input: Locator, value: string): Promise<void> {
  await input.fill(value);
  await input.press('End'); // a key event: LuCI validates on keyup and blur
}

describe('LuCI settings page', { timeout: 240_000 }, () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
    // The agent checks the committed file exactly as it does on a reload.
    rig.agent.reloadCheck = () => {
      const r = loadConfigText(rig.harness.uci.text('wanbond'), '/etc/config/wanbond');
      return r.ok ? { ok: true } : { ok: false, errors: r.errors.map(formatConfigError) };
    };
  });
  after(async () => {
    await rig?.close();
  });
  beforeEach(() => {
    // every test starts from the shipped config, whatever the one before applied
    rig.harness.uci.load('wanbond', fixture('wanbond.uci'));
    rig.harness.reloadTriggers.length = 0;
  });
  afterEach(async () => {
    await rig.closePages();
  });

  it('shows the config, with the link interfaces offered from netifd', async () => {
    const page = await open(rig, 'root');
    assert.equal(await field(page, 'globals', 'mode').inputValue(), 'balance-rr');
    assert.equal(await field(page, 'concentrator', 'host').inputValue(), 'vpn.example.net');
    assert.deepEqual(await page.$$eval('#cbi-wanbond-link .cbi-section-node', (n) => n.map((e) => e.getAttribute('data-section-id'))), ['lte1', 'lte2', 'dsl', 'starlink']);
    assert.equal(await field(page, 'dsl', 'interface').inputValue(), 'wan');
    const offered = await field(page, 'lte1', 'interface').locator('option').allTextContents();
    assert.ok(offered.includes('wwan3 (cdc-wdm2, down)'), offered.join(' | '));
    assert.ok(!offered.some((o) => o.startsWith('loopback')));
    assert.deepEqual(await page.$$eval('.cbi-input-invalid', (e) => e.length), 0, 'the shipped config is valid in the form');
    await page.screenshot({ path: artifactPath('luci-settings-1280.png'), fullPage: true });
  });

  it('refuses an invalid value with a message, and saves nothing', async () => {
    const page = await open(rig, 'root');
    const before = rig.harness.uci.text('wanbond');
    const reloads = rig.agent.reloads;

    const weight = field(page, 'lte1', 'weight');
    await type(weight, '250');
    assert.equal(await weight.getAttribute('class'), 'cbi-input-text cbi-input-invalid');
    assert.equal(await weight.getAttribute('data-tooltip'), '250 is out of range (1..100)');
    await weight.evaluate((e) => e.scrollIntoView({ block: 'center' }));
    await weight.hover();
    await page.waitForSelector('.cbi-tooltip.error', { state: 'visible', ...WAIT });
    assert.match((await page.textContent('.cbi-tooltip.error')) ?? '', /250 is out of range \(1\.\.100\)/);
    await page.screenshot({ path: artifactPath('luci-settings-invalid-1280.png') });

    // a cross-option rule of the agent: recovery must not be worse than failure
    await type(field(page, 'health', 'recovery_latency'), '400');
    assert.match((await field(page, 'health', 'recovery_latency').getAttribute('data-tooltip')) ?? '', /must not exceed the failure latency \(150 ms\)/);

    await page.click('.cbi-page-actions .cbi-button-apply');
    await page.waitForSelector('body.modal-overlay-active .modal', WAIT);
    const modal = (await page.textContent('.modal')) ?? '';
    assert.match(modal, /Save error/);
    assert.match(modal, /Option "Weight" contains an invalid input value\. 250 is out of range \(1\.\.100\)/);

    assert.equal(rig.harness.uci.text('wanbond'), before, 'nothing committed');
    assert.equal(rig.agent.reloads, reloads, 'the agent was not asked to reload');
    assert.deepEqual(rig.harness.rpcLog.filter((e) => e.object === 'uci' && e.method !== 'get'), [], 'nothing staged');
  });

  it('applies a valid change: committed, procd reload trigger, agent reloaded, page reloaded with it', async () => {
    const page = await open(rig, 'root');
    const reloads = rig.agent.reloads;
    await type(field(page, 'health', 'failure_latency'), '300');
    await page.selectOption('[id="widget.cbid.wanbond.globals.mode"]', 'active-backup');
    await page.click('.cbi-page-actions .cbi-button-apply');
    await page.waitForFunction(() => /Configuration changes applied/.test(document.querySelector('.modal')?.textContent ?? ''), null, WAIT);

    const text = rig.harness.uci.text('wanbond');
    assert.match(text, /option failure_latency '300'/);
    assert.match(text, /option mode 'active-backup'/);
    assert.deepEqual(rig.harness.reloadTriggers, ['wanbond']);
    assert.ok(loadConfigText(text, 'wanbond').ok, 'what LuCI wrote is a config the agent accepts');

    // LuCI reloads the page after applying; the form shows the committed values
    await page.waitForFunction(() => !document.body.classList.contains('modal-overlay-active'), null, WAIT);
    await page.waitForSelector('.cbi-page-actions .cbi-button-apply', WAIT);
    assert.equal(await field(page, 'health', 'failure_latency').inputValue(), '300');
    assert.ok(rig.agent.reloads >= reloads + 2, 'procd trigger and the page both asked the agent to reload');
    assert.equal(await page.$$eval('.alert-message.danger', (e) => e.length), 0, 'no refusal shown');
  });

  it('adds a link with a free link number on an interface from netifd, and removes one', async () => {
    const page = await open(rig, 'root');
    // a name the agent would refuse is refused here
    await type(page.locator('#cbi-wanbond-link .cbi-section-create-name'), 'cable_modem_2');
    await page.click('#cbi-wanbond-link .cbi-button-add');
    await page.waitForSelector('.alert-message.danger', WAIT);
    assert.match((await page.textContent('.alert-message.danger')) ?? '', /longer than 12 characters/);

    await type(page.locator('#cbi-wanbond-link .cbi-section-create-name'), 'lte3');
    await page.click('#cbi-wanbond-link .cbi-button-add');
    await page.waitForSelector('[data-section-id="lte3"]', WAIT);
    assert.equal(await field(page, 'lte3', 'id').inputValue(), '5');
    // no interface chosen yet: the form says so
    assert.match((await field(page, 'lte3', 'interface').getAttribute('data-tooltip')) ?? '', /Choose the link's network interface/);
    // the interface of another link is refused
    await page.selectOption('[id="widget.cbid.wanbond.lte3.interface"]', 'wwan1');
    assert.match((await field(page, 'lte3', 'interface').getAttribute('data-tooltip')) ?? '', /already used by link lte1/);
    await page.selectOption('[id="widget.cbid.wanbond.lte3.interface"]', 'wwan3');
    assert.equal(await field(page, 'lte3', 'interface').getAttribute('data-tooltip'), null);

    await page.click('#cbi-wanbond-link .cbi-section-remove button[data-section-id="starlink"]');
    await page.waitForFunction(() => !document.querySelector('[data-section-id="starlink"]'), null, WAIT);

    await page.click('.cbi-page-actions .cbi-button-apply');
    await page.waitForFunction(() => /Configuration changes applied/.test(document.querySelector('.modal')?.textContent ?? ''), null, WAIT);
    const text = rig.harness.uci.text('wanbond');
    assert.match(text, /config link 'lte3'\n\toption id '5'\n\toption enabled '1'\n\toption interface 'wwan3'/);
    assert.doesNotMatch(text, /starlink/);
    const loaded = loadConfigText(text, 'wanbond');
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map(formatConfigError).join('\n'));
    assert.deepEqual(loaded.config.links.map((l) => [l.name, l.id, l.interface]), [['lte1', 1, 'wwan1'], ['lte2', 2, 'wwan2'], ['dsl', 3, 'wan'], ['lte3', 5, 'wwan3']]);
  });

  it("shows the agent's own message when it refuses what was applied", async () => {
    // Two people edit at once: both forms are valid on their own, together they clash.
    const first = await open(rig, 'root');
    const second = await open(rig, 'root');
    await first.selectOption('[id="widget.cbid.wanbond.lte2.interface"]', 'wwan3');
    await first.click('.cbi-page-actions .cbi-button-apply');
    await first.waitForFunction(() => /Configuration changes applied/.test(document.querySelector('.modal')?.textContent ?? ''), null, WAIT);

    await second.selectOption('[id="widget.cbid.wanbond.dsl.interface"]', 'wwan3');
    assert.equal(await field(second, 'dsl', 'interface').getAttribute('data-tooltip'), null, 'valid as far as this page knows');
    await second.evaluate(() => { (window as unknown as { beforeApply: boolean }).beforeApply = true; });
    await second.click('.cbi-page-actions .cbi-button-apply');

    // after LuCI's post-apply page reload the refusal is still shown, in the agent's words
    await second.waitForFunction(
      () => !(window as unknown as { beforeApply?: boolean }).beforeApply && document.querySelector('#wanbond-refused li') && document.querySelector('.cbi-page-actions'),
      null, { timeout: 20_000 });
    const refused = (await second.textContent('#wanbond-refused')) ?? '';
    assert.match(refused, /\/etc\/config\/wanbond:\d+: dsl\.interface: interface 'wwan3' is already used by link 'lte2'/);
    assert.match((await second.textContent('.alert-message.danger')) ?? '', /keeps running with the previous ones/);
    await second.screenshot({ path: artifactPath('luci-settings-refused-1280.png') });

    // put it right again for the tests that follow
    await second.selectOption('[id="widget.cbid.wanbond.dsl.interface"]', 'wan');
    await second.click('.cbi-page-actions .cbi-button-apply');
    await second.waitForFunction(() => /Configuration changes applied/.test(document.querySelector('.modal')?.textContent ?? ''), null, WAIT);
    assert.ok(loadConfigText(rig.harness.uci.text('wanbond'), 'wanbond').ok);
  });

  it("shows the agent's answer even when it comes after LuCI's post-apply page reload", async () => {
    const check = rig.agent.reloadCheck;
    // an agent that takes 3 s to answer (LuCI reloads the page 1.5 s after applying)
    rig.agent.reloadCheck = async () => {
      await new Promise((r) => setTimeout(r, 3000));
      return { ok: false, errors: ['/etc/config/wanbond:3: globals.mode: slow refusal for the test'] };
    };
    try {
      const page = await open(rig, 'root');
      await page.selectOption('[id="widget.cbid.wanbond.globals.mode"]', 'broadcast');
      await page.evaluate(() => { (window as unknown as { beforeApply: boolean }).beforeApply = true; });
      await page.click('.cbi-page-actions .cbi-button-apply');
      await page.waitForFunction(
        () => !(window as unknown as { beforeApply?: boolean }).beforeApply && /slow refusal/.test(document.querySelector('#wanbond-refused')?.textContent ?? ''),
        null, { timeout: 20_000 });
      assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'nothing left pending');
    } finally {
      rig.agent.reloadCheck = check;
    }
  });

  it('is read-only for a read-only user', async () => {
    const page = await open(rig, 'viewer');
    assert.equal(await page.locator('.cbi-page-actions .cbi-button-apply').isDisabled(), true);
    assert.equal(await field(page, 'concentrator', 'host').isDisabled(), true);
    assert.equal(await page.locator('#cbi-wanbond-link .cbi-section-create-name').isDisabled(), true);
    assert.equal(await page.locator('#cbi-wanbond-link .cbi-section-remove button[data-section-id="dsl"]').isDisabled(), true);
    const staged = await page.evaluate(async () => {
      const rpc = await L.require('rpc');
      const set = rpc.declare({ object: 'uci', method: 'set', params: ['config', 'section', 'values'] });
      return set('wanbond', 'globals', { enabled: '0' }).then((r) => ({ resolved: r }), (e: Error) => ({ rejected: e.message }));
    });
    assert.match(String((staged as { rejected?: string }).rejected), /Access denied/);
    assert.deepEqual(rig.harness.uci.changes(rig.harness.rpcLog.at(-1)!.sid), {});
  });

  it('reads well on a phone (390 px)', async () => {
    const page = await open(rig, 'root', 390);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await page.screenshot({ path: artifactPath('luci-settings-390.png'), fullPage: true });
  });
});

declare const L: { require(name: string): Promise<{ declare(o: object): (...a: unknown[]) => Promise<unknown> }> };

describe('LuCI settings page on a fresh install', { timeout: 120_000 }, () => {
  // the config the wanbond package ships: valid, disabled, no concentrator, no link
  const SHIPPED = readFileSync(new URL('../../files/etc/config/wanbond', import.meta.url), 'utf8');
  let rig: Rig;
  before(async () => {
    rig = await startRig({ uci: { wanbond: SHIPPED } });
    rig.agent.reloadCheck = () => {
      const r = loadConfigText(rig.harness.uci.text('wanbond'), '/etc/config/wanbond');
      return r.ok ? { ok: true } : { ok: false, errors: r.errors.map(formatConfigError) };
    };
  });
  after(async () => {
    await rig?.close();
  });

  it('sets wanbond up from nothing: refuses to enable it half-configured, then applies a config the agent accepts', async () => {
    const page = await open(rig, 'root');
    assert.equal(await field(page, 'concentrator', 'host').inputValue(), '');
    assert.match((await page.textContent('#cbi-wanbond-link')) ?? '', /This section contains no values yet/);

    await page.check('[id="widget.cbid.wanbond.globals.enabled"]');
    assert.equal(await field(page, 'concentrator', 'host').getAttribute('data-tooltip'), 'Required once wanbond is enabled');
    assert.match((await field(page, 'globals', 'enabled').getAttribute('data-tooltip')) ?? '', /needs at least one enabled link/);
    await page.click('.cbi-page-actions .cbi-button-apply');
    await page.waitForSelector('body.modal-overlay-active .modal', WAIT);
    assert.match((await page.textContent('.modal')) ?? '', /contains an invalid input value/);
    assert.deepEqual(rig.harness.reloadTriggers, [], 'nothing applied');
    await page.click('.modal .cbi-button');

    await type(field(page, 'concentrator', 'host'), 'vpn.example.net');
    await type(field(page, 'concentrator', 'public_key'), 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=');
    await type(field(page, 'concentrator', 'site'), 'home');
    await type(field(page, 'concentrator', 'subnet'), '10.213.7.0/24');
    await type(page.locator('#cbi-wanbond-link .cbi-section-create-name'), 'fibre');
    await page.click('#cbi-wanbond-link .cbi-button-add');
    await page.waitForSelector('[data-section-id="fibre"]', WAIT);
    await page.selectOption('[id="widget.cbid.wanbond.fibre.interface"]', 'wan');
    assert.equal(await page.$$eval('.cbi-value:not(.hidden) .cbi-input-invalid', (e) => e.length), 0);

    await page.click('.cbi-page-actions .cbi-button-apply');
    await page.waitForFunction(() => /Configuration changes applied/.test(document.querySelector('.modal')?.textContent ?? ''), null, WAIT);
    const loaded = loadConfigText(rig.harness.uci.text('wanbond'), '/etc/config/wanbond');
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map(formatConfigError).join('\n'));
    assert.equal(loaded.config.globals.enabled, true);
    assert.deepEqual(loaded.config.concentrator, { host: 'vpn.example.net', port: 51820, public_key: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=', site: 'home', subnet: '10.213.7.0/24' });
    assert.deepEqual(loaded.config.links.map((l) => [l.name, l.id, l.interface, l.enabled]), [['fibre', 1, 'wan', true]]);
    // the shipped comments are gone (rpcd rewrites the file, as on a router) but health and mqtt are kept
    assert.equal(loaded.config.health.up, 10);
  });
});
