// The stack commands' argument parsing: --config, valued options, flags, and the default config
// file (OpenWrt's, or the concentrator package's where only that exists).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../src/agent/options.ts';
import { CONCENTRATOR_CONFIG_PATH, DEFAULT_CONFIG_PATH, defaultConfigPath } from '../../src/config/defaults.ts';

test('parseArgs: --config, --name value, --name=value, flags and words', () => {
  const a = parseArgs(['--config', '/x/y', '--control=/s', '--dry-run', 'add', 'tok'], ['control']);
  assert.equal(a.config, '/x/y');
  assert.deepEqual(a.values, { control: '/s' });
  assert.deepEqual([...a.flags], ['dry-run']);
  assert.deepEqual(a.rest, ['add', 'tok']);
  assert.throws(() => parseArgs(['--config']), /--config needs a value/);
});

test('parseArgs: without --config, the concentrator file where only it exists', () => {
  const only = (p: string) => (q: string) => q === p;
  assert.equal(parseArgs([], [], () => defaultConfigPath(only(CONCENTRATOR_CONFIG_PATH))).config, CONCENTRATOR_CONFIG_PATH);
  assert.equal(parseArgs([], [], () => defaultConfigPath(only(DEFAULT_CONFIG_PATH))).config, DEFAULT_CONFIG_PATH);
  assert.equal(parseArgs([], [], () => defaultConfigPath(() => true)).config, DEFAULT_CONFIG_PATH);
  assert.equal(parseArgs([], [], () => defaultConfigPath(() => false)).config, DEFAULT_CONFIG_PATH);
  // The default is only looked at when no --config is given.
  assert.equal(parseArgs(['--config', '/a'], [], () => assert.fail('default consulted')).config, '/a');
  // And the real default is defaultConfigPath() on this machine, not a fixed path.
  assert.equal(parseArgs([]).config, defaultConfigPath());
});
