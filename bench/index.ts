/**
 * `npm run bench -- <name> [--json] [options]` runs `bench/<name>.ts` (compiled to dist/bench). Each bench
 * module exports `run(argv)`; it prints figures and ratios, or one JSON line per case with `--json`.
 * `npm run bench` alone lists the benchmarks.
 */
import { readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { dirname } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const available = (await readdir(here))
  .filter(f => f.endsWith('.js') && f !== 'index.js' && !f.startsWith('_'))
  .map(f => f.slice(0, -3))

const [name, ...rest] = process.argv.slice(2)
if (name === undefined || !available.includes(name)) {
  if (name !== undefined) console.error(`unknown benchmark '${name}'`)
  console.error(`usage: npm run bench -- <${available.join('|')}> [--json]`)
  process.exit(name === undefined ? 0 : 2)
}
const mod = await import(`./${name}.js`) as { run: (argv: string[]) => Promise<void> }
await mod.run(rest)
