import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { totalmem } from 'node:os'
import { hasHeapSettings, simulateV8Flags } from '../../src/sim/simProcess.js'

describe('sim/simProcess: the heap sizes `adrmesh simulate` runs with', () => {
  it('sizes the old space to three quarters of the machine and the young generation to 32 MiB', () => {
    assert.deepEqual(simulateV8Flags(24 * 2 ** 30), ['--max-old-space-size=18432', '--max-semi-space-size=32'])
  })

  it('leaves heap sizes given as flags or in NODE_OPTIONS to the user, and only those', () => {
    assert.equal(hasHeapSettings(['--max-old-space-size=2000'], {}), true)
    assert.equal(hasHeapSettings([], { NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=8' }), true)
    assert.equal(hasHeapSettings(['--expose-gc', '--import', 'tsx'], { NODE_OPTIONS: '--enable-source-maps' }), false)
  })

  it('the compiled CLI runs `simulate` with them unless told otherwise (`npm test` builds first)', async () => {
    const bin = fileURLToPath(new URL('../../bin/node', import.meta.url))
    const heapLimitMiB = async (nodeFlags: string[]): Promise<number> => {
      const { stdout } = await promisify(execFile)(process.execPath, [...nodeFlags, bin, 'simulate', '--agents', '1', '--customers', '2', '--intervals', '1', '--strategy', 'none', '--baseline', 'false'])
      return Number(/heap limit (\d+) MiB/.exec(stdout)?.[1])
    }
    const expected = Number((simulateV8Flags(totalmem())[0] as string).split('=')[1])
    // V8 adds its young generation and a margin to the old space's size.
    const given = await heapLimitMiB([])
    assert.ok(given >= expected && given < expected + 256, `heap limit ${given} MiB, old space ${expected} MiB`)
    const own = await heapLimitMiB(['--max-old-space-size=1000'])
    assert.ok(own >= 1000 && own < 1256, `heap limit ${own} MiB with the user's 1000`)
  })
})
