// Every topic wanbond publishes under its prefix, in one place.
export interface Topics {
  availability: string;
  bondState: string;
  linkState(link: string): string;
  alert: string;
  /** Retained list of the Home Assistant discovery topics this router has announced. */
  announced: string;
}

export function topicsFor(prefix: string): Topics {
  return {
    availability: `${prefix}/availability`,
    bondState: `${prefix}/bond/state`,
    linkState: (link) => `${prefix}/link/${link}/state`,
    alert: `${prefix}/alert`,
    announced: `${prefix}/ha_announced`,
  };
}
