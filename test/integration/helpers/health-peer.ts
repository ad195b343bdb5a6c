// A real HealthMonitor in the router role, run in its own process so that a test can freeze it
// (SIGSTOP) the way a starved CPU or a process start freezes an agent. Started by
// health-monitor.test.ts with fork(); argv[2] is the JSON of PeerSetup. Reports to the parent:
// {kind:'link', ev} for every state change, {kind:'log', line} for every log line.
// Commands: {cmd:'cut', key} stops answering on that link (its socket closed, as on a cut link),
// {cmd:'stop'} exits.
import { HealthMonitor, type MonitoredLink } from '../../../src/health/monitor.ts';
import { HEALTH_DEFAULTS } from '../../../src/config/defaults.ts';
import { createLogger } from '../../../src/log.ts';

export interface PeerSetup {
  port: number;
  links: MonitoredLink[];
}

const setup = JSON.parse(process.argv[2]!) as PeerSetup;
const send = (m: unknown) => process.send?.(m);
const log = createLogger('router', 'debug', (line) => send({ kind: 'log', line }));
const mon = new HealthMonitor({ role: 'router', health: HEALTH_DEFAULTS, fallback: { enabled: false, timeout_s: 30 }, log, port: setup.port, startupGraceMs: 0 });
mon.on('link', (ev) => send({ kind: 'link', ev }));
mon.setLinks(setup.links);
mon.start();

process.on('message', (m: { cmd: string; key?: string }) => {
  if (m.cmd === 'cut') mon.setLinks(setup.links.filter((l) => l.key !== m.key));
  if (m.cmd === 'stop') {
    mon.stop();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
send({ kind: 'ready' });
