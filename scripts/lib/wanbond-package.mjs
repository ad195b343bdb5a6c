// What the wanbond packages hold: the .ipk for OpenWrt and the .deb for a Debian/Ubuntu
// concentrator. The OpenWrt side follows openwrt/wanbond/Makefile (its maintainer scripts are
// read from there; test/unit/package-feed.test.ts checks that depends and files agree).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { thirdPartyLicenses } from './licenses.mjs';
import { gzip, sourceDateEpoch } from './tar.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const at = (...p) => join(ROOT, ...p);

export const MAINTAINER = 'wanbond maintainers <maintainers@wanbond.invalid>';
export const HOMEPAGE = 'https://wanbond.invalid/';
export const LICENSE = 'Apache-2.0';
export const FEED_MAKEFILE = at('openwrt/wanbond/Makefile');
/** The bundled npm packages' licenses (regenerate: node scripts/lib/licenses.mjs > this file). */
export const NOTICES = 'files/usr/lib/wanbond/THIRD-PARTY-LICENSES';


/** package.json's version: the version of both packages. */
export function packageVersion() {
  return JSON.parse(readFileSync(at('package.json'), 'utf8')).version;
}

/**
 * A `define NAME ... endef` block of the feed Makefile, as make expands it (`$$` -> `$`), with
 * a final newline; undefined when absent.
 */
export function feedDefine(name, makefile = readFileSync(FEED_MAKEFILE, 'utf8')) {
  const m = makefile.match(new RegExp(`^define ${name.replace(/[/.]/g, '\\$&')}\\n([\\s\\S]*?)^endef$`, 'm'));
  return m ? m[1].replace(/\$\$/g, '$') : undefined;
}

// Why each one: see the comment above DEPENDS in openwrt/wanbond/Makefile. libc first because
// OpenWrt's build adds it to every package that is not a kernel module.
export const OPENWRT_DEPENDS = [
  'libc', 'node', 'kmod-bonding', 'kmod-wireguard', 'wireguard-tools', 'kmod-gre', 'ip-full',
  'kmod-nft-core', 'kmod-nft-nat', 'nftables-json', 'kmod-sched-core', 'kmod-netem', 'tc',
];

export const DEBIAN_DEPENDS = ['nodejs (>= 18)', 'wireguard-tools', 'iproute2', 'nftables'];

/** buildIpk spec of dist/wanbond_<version>_all.ipk (bundle: path of dist/wanbond.js). */
export function wanbondIpkSpec({ bundle = at('dist/wanbond.js'), config = at('files/etc/config/wanbond'), version = packageVersion() } = {}) {
  const makefile = readFileSync(FEED_MAKEFILE, 'utf8');
  return {
    name: 'wanbond',
    version,
    depends: OPENWRT_DEPENDS,
    source: 'openwrt/wanbond',
    sourceName: 'wanbond',
    license: LICENSE,
    section: 'net',
    url: HOMEPAGE,
    maintainer: MAINTAINER,
    architecture: 'all',
    description: feedDefine('Package/wanbond/description', makefile),
    files: [
      { path: '/usr/bin/wanbond', mode: 0o755, source: at('files/usr/bin/wanbond') },
      { path: '/usr/lib/wanbond/wanbond.js', mode: 0o755, source: bundle },
      { path: '/usr/lib/wanbond/THIRD-PARTY-LICENSES', mode: 0o644, source: at(NOTICES) },
      { path: '/etc/config/wanbond', mode: 0o600, source: config },
      { path: '/etc/init.d/wanbond', mode: 0o755, source: at('files/etc/init.d/wanbond') },
      { path: '/etc/uci-defaults/90-wanbond-firewall', mode: 0o755, source: at('files/etc/uci-defaults/90-wanbond-firewall') },
      { path: '/etc/wanbond/keys', type: 'dir', mode: 0o700 },
    ],
    conffiles: ['/etc/config/wanbond'],
    scripts: {
      postinst: feedDefine('Package/wanbond/postinst', makefile),
      prerm: feedDefine('Package/wanbond/prerm', makefile),
    },
  };
}

/** Debian's copyright file: wanbond's license, then the bundled packages' (policy 12.5). */
function debianCopyright() {
  return (
    'wanbond\n\nCopyright: the wanbond authors\nLicense: Apache-2.0\n' +
    ' On Debian systems the full text of the Apache License, Version 2.0\n' +
    ' is in /usr/share/common-licenses/Apache-2.0.\n\n' +
    'The bundle /usr/lib/wanbond/wanbond.js also holds third-party code:\n\n' +
    thirdPartyLicenses(ROOT, { commonLicenses: true })
  );
}

/** A native package's changelog.gz: one entry for this version, dated SOURCE_DATE_EPOCH. */
function debianChangelog(version, epoch) {
  const date = new Date(epoch * 1000).toUTCString().replace('GMT', '+0000');
  return gzip(Buffer.from(
    `wanbond (${version}) unstable; urgency=medium\n\n  * Built from the wanbond repository; its git history has the changes.\n\n -- ${MAINTAINER}  ${date}\n`,
  ));
}

/** buildDeb spec of dist/wanbond_<version>_all.deb, the concentrator's package. */
export function wanbondDebSpec({ bundle = at('dist/wanbond.js'), version = packageVersion(), epoch = sourceDateEpoch() } = {}) {
  return {
    sourceDateEpoch: epoch,
    name: 'wanbond',
    version,
    architecture: 'all',
    maintainer: MAINTAINER,
    depends: DEBIAN_DEPENDS,
    section: 'net',
    priority: 'optional',
    homepage: HOMEPAGE,
    description:
      'bond several WAN links into one (concentrator)\n' +
      'wanbond turns several weak uplinks of a router site into one: a WireGuard\n' +
      'tunnel per link to this concentrator, a gretap inside each, one Linux bond\n' +
      'per site, NAT to the public address. This package runs the concentrator\n' +
      'role under systemd; configure it in /etc/wanbond/wanbond.',
    files: [
      { path: '/usr/bin/wanbond', mode: 0o755, source: at('files/usr/bin/wanbond') },
      { path: '/usr/lib/wanbond/wanbond.js', mode: 0o755, source: bundle },
      { path: '/etc/wanbond/wanbond', mode: 0o600, source: at('files/etc/wanbond/wanbond') },
      { path: '/etc/wanbond/keys', type: 'dir', mode: 0o700 },
      { path: '/lib/systemd/system/wanbond.service', mode: 0o644, source: at('files/lib/systemd/system/wanbond.service') },
      { path: '/usr/share/doc/wanbond/copyright', mode: 0o644, content: debianCopyright() },
      { path: '/usr/share/doc/wanbond/changelog.gz', mode: 0o644, content: debianChangelog(version, epoch) },
    ],
    conffiles: ['/etc/wanbond/wanbond'],
    scripts: {
      postinst: readFileSync(at('files/debian/postinst'), 'utf8'),
      prerm: readFileSync(at('files/debian/prerm'), 'utf8'),
      postrm: readFileSync(at('files/debian/postrm'), 'utf8'),
    },
  };
}
