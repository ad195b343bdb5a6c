// Telemetry: the ubus `status` shape cut into retained pieces. A link's state is its LinkStatus
// exactly; the bond's state is the rest of Status (globals, bond, concentrator, fallback). Put
// back together they are the ubus answer, so one schema serves ubus, the CLI, LuCI and MQTT.
import type { Status } from '../status/types.ts';
import type { Topics } from './topics.ts';

export interface Message {
  topic: string;
  payload: string;
}

export function telemetryMessages(status: Status, topics: Topics): Message[] {
  const { links, ...bond } = status;
  return [
    { topic: topics.bondState, payload: JSON.stringify(bond) },
    ...links.map((l) => ({ topic: topics.linkState(l.name), payload: JSON.stringify(l) })),
  ];
}
