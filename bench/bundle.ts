// Host side: bundles the programs started inside the lab — the VoIP stream (the bench) and
// kernel-agent (the health lab tests' stand-in agent) — into single .mjs files under dist/bench/,
// because tsx compiling them in a busy one-CPU guest took over a minute per start.
import { build } from 'esbuild';
import { join } from 'node:path';
import { REPO_ROOT } from '../lab/run.ts';

export interface BenchTools {
  agent: string;
  voip: string;
}

export async function bundleBenchTools(): Promise<BenchTools> {
  const out = join(REPO_ROOT, 'dist', 'bench');
  const one = async (name: string): Promise<string> => {
    const outfile = join(out, `${name}.mjs`);
    await build({
      entryPoints: [join(REPO_ROOT, 'bench', `${name}.ts`)],
      outfile, bundle: true, minify: true, platform: 'node', target: 'node18', format: 'esm', logLevel: 'warning',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    return outfile;
  };
  return { agent: await one('kernel-agent'), voip: await one('voip') };
}
