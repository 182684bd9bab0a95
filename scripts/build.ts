/**
 * `npm run build`: self-contained ESM bundles of the long-running programs into dist/ —
 * the projector (dist/projector.mjs, what the container image runs) and the parked-events
 * CLI (dist/parked.mjs). The Lambdas are bundled by serverless-esbuild (`npm run package`).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');

// CommonJS dependencies (gRPC, protobuf) call require() and read __dirname inside an ESM bundle.
const banner = [
  "import { createRequire as __chronicleCreateRequire } from 'node:module';",
  "import { fileURLToPath as __chronicleFileURLToPath } from 'node:url';",
  "import { dirname as __chronicleDirname } from 'node:path';",
  'const require = __chronicleCreateRequire(import.meta.url);',
  'const __filename = __chronicleFileURLToPath(import.meta.url);',
  'const __dirname = __chronicleDirname(__filename);',
].join(' ');

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { projector: 'src/projector/main.ts', parked: 'src/projector/parkedCli.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: 'linked',
  keepNames: true,
  // Native: installed next to the bundle (the image runs `npm ci --omit=dev`), never inlined.
  external: ['better-sqlite3'],
  banner: { js: banner },
  metafile: true,
  logLevel: 'warning',
});

for (const [file, output] of Object.entries(result.metafile.outputs))
  if (file.endsWith('.mjs')) console.log(`${path.relative(root, path.join(root, file))}  ${(output.bytes / 1024).toFixed(0)} KiB`);
