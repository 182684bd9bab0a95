'use strict';
/**
 * esbuild plugins for the deployed function bundles (serverless.yml custom.esbuild.plugins).
 *
 * Source maps for our code only. A full map of a bundle is larger than the minified code itself
 * (getUser: 2.0 MB of map for 1.9 MB of code, 546 KB of its 1 MB zip), and nearly all of it maps
 * the dependencies' minified code back to their own sources (several ship maps to their
 * TypeScript). Each dependency file is therefore given a one-segment input map that points at the
 * file itself, line 1: a stack frame inside a dependency names its file, a frame in src/ or
 * handlers/ keeps its exact file:line. The `local` stage (serverless-offline) keeps full maps.
 */
const { readFile } = require('node:fs/promises');
const path = require('node:path');

const DEPENDENCY_SOURCE = /[\\/]node_modules[\\/].*\.(c|m)?js$/;

/** A data-URL source map whose only segment maps line 1, column 0 to the start of `file`. */
const fileOnlySourceMap = (file) =>
  Buffer.from(JSON.stringify({ version: 3, sources: [path.basename(file)], names: [], mappings: 'AAAA' })).toString('base64');

const dependencyMapsToFileOnly = {
  name: 'chronicle-dependency-maps-to-file-only',
  setup(build) {
    build.onLoad({ filter: DEPENDENCY_SOURCE }, async function dependencyMapOnLoad(args) {
      const code = await readFile(args.path, 'utf8');
      // A later sourceMappingURL comment wins over one the package ships.
      return {
        contents: `${code}\n//# sourceMappingURL=data:application/json;base64,${fileOnlySourceMap(args.path)}\n`,
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
  },
};

module.exports = (serverless) => (serverless.service.provider.stage === 'local' ? [] : [dependencyMapsToFileOnly]);
