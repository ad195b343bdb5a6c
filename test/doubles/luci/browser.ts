// Headless Debian chromium for the LuCI page tests, started the way issue 6 prescribes (no
// network chatter, fresh profile), plus a fresh harness around a recorded agent.
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { LuciHarness, type HarnessOptions } from './harness.ts';
import { RecordedAgent } from './recorded-agent.ts';

export const ARTIFACTS = new URL('../../artifacts/', import.meta.url);
const FIXTURES = new URL('./fixtures/', import.meta.url);

export function fixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

export interface Rig {
  harness: LuciHarness;
  agent: RecordedAgent;
  close(): Promise<void>;
  /** Close the pages tests opened (the per-user browsers stay for the next test). */
  closePages(): Promise<void>;
  /** A browser context logged in as `user` (root: read+write, viewer: read only). */
  pageAs(user: string, width?: number): Promise<{ context: BrowserContext; page: Page; sid: string }>;
}

export async function startRig(opts: Partial<HarnessOptions> = {}): Promise<Rig> {
  const agent = (opts.agent as RecordedAgent | undefined) ?? new RecordedAgent();
  const harness = new LuciHarness({
    agent,
    uci: opts.uci ?? { wanbond: fixture('wanbond.uci') },
    interfaces: opts.interfaces ?? JSON.parse(fixture('network-interface-dump.json')),
    pollInterval: opts.pollInterval ?? 1,
    ...(opts.logins ? { logins: opts.logins } : {}),
  });
  const url = await harness.start();
  // One chromium per user (fresh profile: --user-data-dir, which playwright passes for a
  // persistent context), logged in once; each test opens its own pages in it.
  const browsers = new Map<string, { context: BrowserContext; profile: string; sid: string }>();
  const pages: Page[] = [];
  const closePages = async (): Promise<void> => {
    for (const p of pages.splice(0)) {
      // keep one page per browser: a persistent context without pages loses its cookies
      if (p.context().pages().length > 1) await p.close();
      else await p.goto('about:blank');
    }
  };
  return {
    harness,
    agent,
    async pageAs(user: string, width = 1280) {
      let b = browsers.get(user);
      if (!b) {
        const sid = harness.login(user);
        const profile = mkdtempSync(join(tmpdir(), 'wanbond-chromium-'));
        const context = await chromium.launchPersistentContext(profile, {
          executablePath: '/usr/bin/chromium',
          headless: true,
          args: [
            '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
          ],
          deviceScaleFactor: 1,
        });
        await context.addCookies([{ name: 'sysauth_http', value: sid, url }]);
        browsers.set(user, (b = { context, profile, sid }));
      }
      // the first page chromium opened is used first, so the context always keeps one open
      const page = b.context.pages().find((p) => p.url() === 'about:blank' && !pages.includes(p)) ?? (await b.context.newPage());
      await page.setViewportSize({ width, height: 900 });
      page.on('pageerror', (e) => console.error(`[page error ${user}] ${e.message}`));
      pages.push(page);
      return { context: b.context, page, sid: b.sid };
    },
    closePages,
    async close() {
      await closePages();
      for (const b of browsers.values()) {
        await b.context.close();
        rmSync(b.profile, { recursive: true, force: true });
      }
      browsers.clear();
      await harness.stop();
    },
  };
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return new URL(name, ARTIFACTS).pathname;
}
