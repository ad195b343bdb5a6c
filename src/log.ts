// One logger for the agent. Lines go to stderr, which procd and systemd send to syslog.
// Never pass key material or passwords to it.
import type { LogLevel } from './config/types.ts';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  setLevel(level: LogLevel): void;
}

export function createLogger(tag: string, level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  let min = ORDER[level];
  const at = (lvl: LogLevel) => (msg: string) => {
    if (ORDER[lvl] >= min) write(`${tag}[${lvl}]: ${msg}`);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    setLevel(l) {
      min = ORDER[l];
    },
  };
}

/** A logger that drops everything (for callers that were given none). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {} };
