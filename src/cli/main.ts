import { VERSION } from '../version.ts';
import { COMMANDS } from './commands.ts';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(VERSION);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(`wanbond ${VERSION}: bond several WAN links into one\n\nusage: wanbond <command> [options]\n`);
    for (const c of COMMANDS) console.log(`  ${c.name.padEnd(14)} ${c.summary}`);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`wanbond: unknown command '${name}' (see wanbond --help)`);
    return 2;
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`wanbond: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
