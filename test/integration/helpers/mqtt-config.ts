// Config and logger for the MQTT tests: a valid `config mqtt` section pointing at a test broker,
// and a logger that keeps every line so tests can read what a user would see in syslog.
import type { Mqtt } from '../../../src/config/types.ts';
import { createLogger, type Logger } from '../../../src/log.ts';

export function mqttConfig(broker: string, over: Partial<Mqtt> = {}): Mqtt {
  return { enabled: true, broker, interval: 1, qos: 1, insecure: false, ha_discovery: true, ha_prefix: 'homeassistant', ...over };
}

export function recordingLogger(): Logger & { lines: string[]; text(): string } {
  const lines: string[] = [];
  const log = createLogger('wanbond', 'debug', (l) => lines.push(l));
  return Object.assign(log, { lines, text: () => lines.join('\n') });
}
