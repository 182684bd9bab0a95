/**
 * The projector's bundles, defined once: `npm run build` (scripts/build.ts) builds them into dist/,
 * the Dockerfile's build stage runs that same script, and test/deploy builds these options to start
 * the projector on Node 24.
 *
 * Our code only (src/projector/main.ts and parkedCli.ts with the #aliases they import), minified
 * with its names kept and linked source maps without sources (the image runs
 * `node --enable-source-maps`). Every package stays external: the image has the production
 * node_modules beside dist/ (`npm ci --omit=dev`), so gRPC, protobuf and better-sqlite3 load from
 * there as CommonJS, unbundled.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** dist/projector.mjs (the image's CMD) and dist/parked.mjs (the parked-events CLI), into `outdir`. */
export const projectorBundleOptions = (outdir: string) =>
  ({
    absWorkingDir: root,
    entryPoints: { projector: 'src/projector/main.ts', parked: 'src/projector/parkedCli.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    packages: 'external',
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
  }) satisfies BuildOptions;
