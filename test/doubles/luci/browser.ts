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
  /** Close every browser opened so far (each test's own, so they do not compete for CPU). */
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
  const opened: Array<{ context: BrowserContext; profile: string }> = [];
  const closePages = async (): Promise<void> => {
    for (const o of opened.splice(0)) {
      await o.context.close();
      rmSync(o.profile, { recursive: true, force: true });
    }
  };
  return {
    harness,
    agent,
    // Each session gets its own chromium with a fresh profile (--user-data-dir, which
    // playwright passes for a persistent context).
    async pageAs(user: string, width = 1280) {
      const sid = harness.login(user);
      const profile = mkdtempSync(join(tmpdir(), 'wanbond-chromium-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [
          '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
          '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
        ],
        viewport: { width, height: 900 },
        deviceScaleFactor: 1,
      });
      opened.push({ context, profile });
      await context.addCookies([{ name: 'sysauth_http', value: sid, url }]);
      const page = context.pages()[0] ?? (await context.newPage());
      page.on('pageerror', (e) => console.error(`[page error ${user}] ${e.message}`));
      return { context, page, sid };
    },
    closePages,
    async close() {
      await closePages();
      await harness.stop();
    },
  };
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return new URL(name, ARTIFACTS).pathname;
}
