/**
 * Bundles the long-lived mesh node processes into single minified files, run after `tsc` by `npm run build`:
 * `dist/bundle/node.js` (`adrmesh node`, which bin/node runs) and `dist/bundle/_meshNode.js` (the node process
 * of `npm run bench -- mesh`, the same MeshNode code with the same options).
 *
 * Why: a node process loaded ~540 modules of libp2p and its dependencies from node_modules. V8 keeps every
 * module's whole source text on the heap (Function.prototype.toString), plus a module record and scope info per
 * module; one minified, tree-shaken file holds a third of that source and one record. Measured on one idle mesh
 * node (--max-semi-space-size=1 --optimize-for-size, after a full GC): 8.9 MB of V8 heap used against 14.3 MB,
 * 61 MB RSS against 70 MB.
 *
 * Left out of the bundle (imported from node_modules at run time as before): packages that find files next to
 * their own code (native LevelDB bindings, the HiGHS WebAssembly file, elkjs) or that
 * only other commands use. A bundled module of ours that reads `import.meta.url` gets the URL of its compiled
 * twin under dist/, so files it finds relative to itself (the worker pool's worker entry) resolve as before.
 */
import { build } from 'esbuild'
import { readFile, rm } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outdir = join(root, 'dist', 'bundle')

const external = ['level', 'classic-level', 'highs', 'elkjs', 'playwright-core', 'libxml2-wasm', 'tsx', 'esbuild', 'mocha', 'fast-check', 'autocannon']

/** Points `import.meta.url` of each bundled source file at its tsc output under dist/. */
const compiledTwinUrl = {
  name: 'compiled-twin-url',
  setup (b) {
    b.onLoad({ filter: /\.ts$/ }, async args => {
      const source = await readFile(args.path, 'utf8')
      if (!source.includes('import.meta.url') || args.path.includes('node_modules')) return undefined
      const twin = relative(outdir, join(root, 'dist', relative(root, args.path))).replace(/\.ts$/, '.js')
      return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(twin)}, import.meta.url).href`), loader: 'ts' }
    })
  }
}

/**
 * libp2p's peer store sorts the addresses, protocols and metadata keys of each peer record it writes (and
 * peer-record compares address lists) with String.prototype.localeCompare: ICU collation, which maps ~3 MB of
 * ICU data and code into every node process (RSS) and is slow, on a path run at every identify. The order only
 * has to be the same each time (a canonical form within one node's store, two lists sorted alike before
 * comparing), so in the bundle these calls compare UTF-16 code units instead. The build fails if a listed file
 * no longer has the call, so a dependency update cannot drop the change silently.
 */
const localeCompareFiles = /node_modules\/@libp2p\/(peer-store\/dist\/src\/utils\/(dedupe-addresses|to-peer-pb)|peer-record\/dist\/src\/peer-record\/utils)\.js$/
const codeUnitCompare = {
  name: 'code-unit-compare',
  setup (b) {
    b.onLoad({ filter: localeCompareFiles }, async args => {
      const source = await readFile(args.path, 'utf8')
      const contents = source.replace(/([\w.]+(?:\(\))?)\.localeCompare\(([\w.]+(?:\(\))?)\)/g, '__adrmeshCodeUnitCompare($1, $2)')
      if (contents === source || contents.includes('localeCompare')) throw new Error(`${args.path}: localeCompare calls not found as expected`)
      return { contents: `const __adrmeshCodeUnitCompare = (a, b) => a < b ? -1 : a > b ? 1 : 0;\n${contents}`, loader: 'js' }
    })
  }
}

// Chunk names change with their contents: start from an empty directory so old chunks do not pile up.
await rm(outdir, { recursive: true, force: true })
await build({
  entryPoints: { node: join(root, 'src', 'cli', 'node.ts'), _meshNode: join(root, 'bench', '_meshNode.ts') },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  // Error classes and logs show constructor and function names.
  keepNames: true,
  sourcemap: 'linked',
  external,
  // CommonJS dependencies inside an ES module bundle still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __adrmeshRequire } from 'node:module'; const require = __adrmeshRequire(import.meta.url);" },
  plugins: [compiledTwinUrl, codeUnitCompare],
  logLevel: 'warning'
})
