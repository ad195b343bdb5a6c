// Child process for the last-will test: runs startMqtt with a test double api until killed.
// argv[2]: JSON { cfg: Mqtt, hostname: string }. Prints "started" once running.
import { startMqtt } from '../../../src/mqtt/index.ts';
import { createLogger } from '../../../src/log.ts';
import { AgentApiDouble, linkStatus, statusWith } from './agent-api-double.ts';

const { cfg, hostname } = JSON.parse(process.argv[2] ?? '{}');
const api = new AgentApiDouble(statusWith([linkStatus('lte1'), linkStatus('dsl')]));
startMqtt(cfg, api, { hostname, log: createLogger('runner', 'debug') });
process.stdout.write('started\n');
