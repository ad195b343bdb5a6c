// files/etc/init.d/wanbond under stand-ins for OpenWrt's rc.common/procd/config helpers: the
// stand-ins print each procd call with its arguments bracketed, so word splitting shows. The UCI
// file is sourced as shell the way functions.sh's config_load reads `uci export` output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const INIT = resolve('files/etc/init.d/wanbond');

// The shell's ${...} is written @{...} here, so that the template leaves it alone.
const STUBS = String.raw`
_n=0
package() { :; }
config() { _n=$((_n + 1)); _sec="@{2:-cfg$_n}"; eval "CONFIG_@{_sec}_TYPE=\$1"; CONFIG_SECTIONS="$CONFIG_SECTIONS $_sec"; }
option() { eval "CONFIG_@{_sec}_$1=\$2"; }
list() { :; }
config_load() { CONFIG_SECTIONS=; _n=0; . "$WB_UCI"; }
config_get() { eval "$1=\@{CONFIG_$2_$3:-\$4}"; }
config_get_bool() {
	local _v; eval "_v=\@{CONFIG_$2_$3:-\$4}"
	case "$_v" in 1|on|true|yes|enabled) _v=1 ;; *) _v=0 ;; esac
	eval "$1=\$_v"
}
config_foreach() {
	local _f="$1" _t="$2" _s _ty
	for _s in $CONFIG_SECTIONS; do eval "_ty=\$CONFIG_@{_s}_TYPE"; [ "$_ty" = "$_t" ] && "$_f" "$_s"; done
}
_rec() { printf '%s' "$1"; shift; for a in "$@"; do printf ' [%s]' "$a"; done; echo; }
for f in procd_open_instance procd_close_instance procd_set_param procd_add_reload_trigger \
	procd_add_reload_interface_trigger procd_add_interface_trigger procd_send_signal start; do
	eval "$f() { _rec $f \"\$@\"; }"
done
procd_running() { _rec procd_running "$@"; [ "$WB_RUNNING" = 1 ]; }
`.replaceAll('@{', '${');

function run(uci: string, calls: string, running = false): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'wb-init-'));
  try {
    writeFileSync(join(dir, 'wanbond'), uci);
    const script = `${STUBS}\n. "${INIT}"\n${calls}\n`;
    const r = spawnSync('/bin/sh', ['-c', script], {
      env: { PATH: '/usr/bin:/bin', WB_UCI: join(dir, 'wanbond'), WB_RUNNING: running ? '1' : '0' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    return r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TWO_LINKS = `
config globals 'globals'
	option enabled '1'
	option role 'router'

config concentrator
	option host 'vpn.example.net'

config link 'lte1'
	option interface 'wwan'
	option weight '3'

config link 'dsl'
	option interface 'wan'
	option enabled 'yes'
`;

test('the init script is valid sh and a procd script', () => {
  const r = spawnSync('sh', ['-n', INIT]);
  assert.equal(r.status, 0, r.stderr?.toString());
});

test('start_service: one respawning instance running the agent, output to syslog', () => {
  assert.deepEqual(run(TWO_LINKS, 'start_service'), [
    'procd_open_instance [wanbond]',
    'procd_set_param [command] [/usr/bin/wanbond] [run] [--config] [/etc/config/wanbond]',
    'procd_set_param [respawn]',
    'procd_set_param [stdout] [1]',
    'procd_set_param [stderr] [1]',
    'procd_set_param [term_timeout] [15]',
    'procd_close_instance',
  ]);
});

test('service_triggers: the config, and each configured link\'s netifd interface', () => {
  assert.deepEqual(run(TWO_LINKS, 'service_triggers'), [
    'procd_add_reload_trigger [wanbond]',
    'procd_add_reload_interface_trigger [wwan]',
    'procd_add_reload_interface_trigger [wan]',
  ]);
});

test('disabled links and links given by device + gateway get no interface trigger', () => {
  const uci = `${TWO_LINKS}
config link 'sat'
	option interface 'starlink'
	option enabled '0'

config link 'eth'
	option device 'eth3'
	option gateway '192.0.2.1'
`;
  assert.deepEqual(run(uci, 'service_triggers'), [
    'procd_add_reload_trigger [wanbond]',
    'procd_add_reload_interface_trigger [wwan]',
    'procd_add_reload_interface_trigger [wan]',
  ]);
});

test('globals.enabled 0 (the shipped default): no instance, but the triggers stay so enabling works', () => {
  const uci = TWO_LINKS.replace("option enabled '1'", "option enabled '0'");
  assert.deepEqual(run(uci, 'start_service'), []);
  assert.deepEqual(run(uci, 'service_triggers')[0], 'procd_add_reload_trigger [wanbond]');
});

test('reload_service asks the running agent to reload (SIGHUP) instead of restarting it', () => {
  assert.deepEqual(run(TWO_LINKS, 'reload_service', true), [
    'procd_running [wanbond] [wanbond]',
    'start',
    'procd_send_signal [wanbond] [wanbond] [HUP]',
  ]);
  // Not running yet (was disabled): start it, no signal to a process that may not have its handler.
  assert.deepEqual(run(TWO_LINKS, 'reload_service', false), ['procd_running [wanbond] [wanbond]', 'start']);
  // Disabled now: `start` drops the instance; nothing to signal.
  const off = TWO_LINKS.replace("option enabled '1'", "option enabled '0'");
  assert.deepEqual(run(off, 'reload_service', true), ['procd_running [wanbond] [wanbond]', 'start']);
});
