import assert from 'node:assert/strict'
import { ConfigError, configHelp, defaultConfig, loadConfig } from '../../src/node/config.js'

const files: Record<string, string> = {
  'node.json': JSON.stringify({ nodeId: 'from-file', port: 9000, matchmaking: 'intra', toleranceKw: 1 }),
  'bad.json': '{ nope',
  'unknown.json': JSON.stringify({ colour: 'blue' })
}
const readFile = async (path: string): Promise<string> => {
  const text = files[path]
  if (text === undefined) throw new Error(`ENOENT ${path}`)
  return text
}

describe('node config: defaults, file, environment, flags (flags win)', () => {
  it('defaults alone make a working node config', async () => {
    const { config, help } = await loadConfig({ argv: [], env: {}, readFile })
    assert.equal(help, false)
    assert.equal(config.dataDir, './adrmesh-data')
    assert.equal(config.intraStrategy, 'corrected')
    assert.equal(config.venName, config.nodeId)
  })

  it('file < environment < flags', async () => {
    const env = { ADRMESH_CONFIG: 'node.json', ADRMESH_PORT: '9100', ADRMESH_NODE_ID: 'from-env' }
    const { config } = await loadConfig({ argv: ['--port', '9200', '--matchmaking=none'], env, readFile })
    assert.equal(config.port, 9200)
    assert.equal(config.nodeId, 'from-env')
    assert.equal(config.matchmaking, 'none')
    assert.equal(config.toleranceKw, 1)
    assert.equal(config.venName, 'from-env')
    assert.equal(defaultConfig.port, 8080, 'defaults are not mutated')
  })

  it('rejects unknown options, bad values and bad files with a clear error', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--colour', 'x'], {}, /unknown option '--colour'/],
      [['--port', 'eighty'], {}, /not a number/],
      [['--port', '70000'], {}, /port must be an integer/],
      [['--matchmaking', 'some'], {}, /not one of none, intra, full/],
      [['--port'], {}, /needs a value/],
      [['--config', 'bad.json'], {}, /bad.json/],
      [['--config', 'unknown.json'], {}, /unknown key 'colour'/],
      [[], { ADRMESH_TIME_SCALE: '0' }, /timeScale must be > 0/]
    ]
    for (const [argv, env, message] of cases) {
      await assert.rejects(loadConfig({ argv, env, readFile }), (err: Error) => err instanceof ConfigError && message.test(err.message), argv.join(' '))
    }
  })

  it('--help lists every option with its environment variable', async () => {
    assert.equal((await loadConfig({ argv: ['--help'], env: {}, readFile })).help, true)
    const text = configHelp()
    for (const flag of ['--data-dir', '--port', '--upstream-url', '--matchmaking', '--intra-strategy', '--admin-token', '--tls-cert', '--log-level']) {
      assert.ok(text.includes(flag), flag)
    }
    assert.ok(text.includes('ADRMESH_DATA_DIR'))
  })

  it('the dashboard token and the loopback-only /metrics are options like the others', async () => {
    assert.equal(defaultConfig.metricsLoopback, 'on')
    assert.equal(defaultConfig.dashboardToken, undefined)
    const { config } = await loadConfig({ argv: ['--dashboard-token', 'sesame', '--metrics-loopback', 'off'], env: {}, readFile })
    assert.equal(config.dashboardToken, 'sesame')
    assert.equal(config.metricsLoopback, 'off')
    await assert.rejects(loadConfig({ argv: ['--metrics-loopback', 'maybe'], env: {}, readFile }), ConfigError)
  })
})
