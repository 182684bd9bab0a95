/**
 * `npm run build`: the projector (dist/projector.mjs) and the parked-events CLI (dist/parked.mjs) as
 * the container image runs them — the Dockerfile's build stage runs this script — with the options
 * of scripts/projectorBundle.ts. They import their packages from node_modules beside dist/. The
 * Lambdas are bundled by serverless-esbuild (`npm run package`).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { projectorBundleOptions } from './projectorBundle.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');

rmSync(outdir, { recursive: true, force: true });
const result = await build(projectorBundleOptions(outdir));

for (const [file, output] of Object.entries(result.metafile.outputs))
  if (file.endsWith('.mjs')) console.log(`${path.relative(root, path.join(root, file))}  ${(output.bytes / 1024).toFixed(0)} KiB`);
