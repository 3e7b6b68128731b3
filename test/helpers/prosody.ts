/**
 * A real XMPP server for tests: Debian's `prosody`, started on loopback on free ports with its own config
 * file, data folder, accounts and TLS certificate (from the test PKI). Runs as root where CI does
 * (`run_as_root`), in the foreground as our child, and is stopped (or restarted on the same ports and data,
 * to test reconnection) by the test. `auth: 'certificate'` needs Debian's prosody-modules (mod_auth_ccert). Clients use direct TLS (XEP-0368, `xmpps://`) because @xmpp/client's
 * STARTTLS upgrade takes no CA or client-certificate options.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testPki, type CertAndKey } from './certs.js'

export interface ProsodyInit {
  /** Accounts to create: localpart → password. */
  users: Record<string, string>
  /**
   * How clients authenticate: SASL with a password (PLAIN/SCRAM inside TLS), or SASL EXTERNAL with a TLS
   * client certificate naming the JID (id-on-xmppAddr), checked by prosody-modules' mod_auth_ccert.
   * @default 'password'
   */
  auth?: 'password' | 'certificate'
  /** The virtual host. @default 'localhost' */
  domain?: string
}

export interface ProsodyServer {
  domain: string
  /** `xmpps://127.0.0.1:<port>`: direct TLS, the service a client connects to. */
  service: string
  /** The CA (PEM) the server certificate chains to. */
  caPem: string
  dataDir: string
  /** Creates (or re-passwords) an account, also while the server runs. */
  addUser: (localpart: string, password: string) => Promise<void>
  /** Kills the server; the ports stay reserved for `start()`. */
  stop: () => Promise<void>
  start: () => Promise<void>
  restart: () => Promise<void>
  /** Stops the server and deletes its folder. */
  dispose: () => Promise<void>
}

const running = new Set<ChildProcess>()
process.once('exit', () => { for (const child of running) child.kill('SIGKILL') })

export async function startProsody (init: ProsodyInit): Promise<ProsodyServer> {
  const domain = init.domain ?? 'localhost'
  const pki = testPki('rsa')
  const dir = mkdtempSync(join(tmpdir(), 'adrmesh-prosody-'))
  const dataDir = join(dir, 'data')
  const [c2sPort, tlsPort] = [await freePort(), await freePort()]
  const configPath = join(dir, 'prosody.cfg.lua')
  writeFileSync(configPath, [
    // CI runs as root; Prosody refuses that (or drops to the `prosody` user) unless told.
    'run_as_root = true',
    `data_path = ${lua(dataDir)}`,
    `pidfile = ${lua(join(dir, 'prosody.pid'))}`,
    `certificates = ${lua(pki.dir)}`,
    `log = { { levels = { min = "info" }, to = "file", filename = ${lua(join(dir, 'prosody.log'))} } }`,
    'interfaces = { "127.0.0.1" }',
    `c2s_ports = { ${c2sPort} }`,
    `c2s_direct_tls_ports = { ${tlsPort} }`,
    's2s_ports = { }',
    's2s_direct_tls_ports = { }',
    'legacy_ssl_ports = { }',
    // No stream management (mod_smacks): the transport's own resend and dedup are what is under test.
    'modules_enabled = { "tls", "saslauth", "disco", "ping", "roster", "posix" }',
    'c2s_require_encryption = true',
    'storage = "internal"',
    ...(init.auth === 'certificate'
      ? [
          'authentication = "ccert"',
          'certificate_match = "xmppaddr"',
          `ssl = { certificate = ${lua(pki.server.certPath)}, key = ${lua(pki.server.keyPath)}, cafile = ${lua(pki.ca.certPath)}, capath = false, verify = { "peer", "client_once" } }`
        ]
      : [
          'authentication = "internal_hashed"',
          `ssl = { certificate = ${lua(pki.server.certPath)}, key = ${lua(pki.server.keyPath)} }`
        ]),
    `VirtualHost ${lua(domain)}`,
    ''
  ].join('\n'))

  const addUser = async (localpart: string, password: string): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      execFile('prosodyctl', ['--config', configPath, 'register', localpart, domain, password], (err, _out, stderr) => {
        if (err !== null) reject(new Error(`prosodyctl register ${localpart}: ${stderr}`))
        else resolve()
      })
    })
  }
  for (const [user, password] of Object.entries(init.users)) await addUser(user, password)

  let child: ChildProcess | undefined
  const start = async (): Promise<void> => {
    if (child !== undefined) return
    const proc = spawn('prosody', ['--config', configPath, '-F'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    child = proc
    running.add(proc)
    const exited = new Promise<never>((_resolve, reject) => {
      proc.once('exit', code => reject(new Error(`prosody exited (${code}) before listening: ${stderr}${logTail(dir)}`)))
    })
    exited.catch(() => {})
    await Promise.race([waitForPort(tlsPort, 10_000), exited])
  }
  const stop = async (): Promise<void> => {
    const proc = child
    if (proc === undefined) return
    child = undefined
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>(resolve => proc.once('exit', () => { resolve() }))
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
    running.delete(proc)
  }
  await start()
  return {
    domain,
    service: `xmpps://127.0.0.1:${tlsPort}`,
    caPem: readFileSync(pki.ca.certPath, 'utf8'),
    dataDir,
    addUser,
    start,
    stop,
    restart: async () => { await stop(); await start() },
    dispose: async () => { await stop(); rmSync(dir, { recursive: true, force: true }) }
  }
}

/**
 * A client certificate from the test CA whose subjectAltName carries `jid` as id-on-xmppAddr (RFC 6120
 * §13.7.1.4), what SASL EXTERNAL authenticates against.
 */
export function xmppClientCertificate (jid: string): CertAndKey {
  const pki = testPki('rsa')
  const stem = `xmpp-${jid.replace(/[^a-z0-9]/gi, '_')}`
  const keyPath = join(pki.dir, `${stem}.key`)
  const csrPath = join(pki.dir, `${stem}.csr`)
  const extPath = join(pki.dir, `${stem}.ext`)
  const certPath = join(pki.dir, `${stem}.pem`)
  const openssl = (args: string[]): void => { execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] }) }
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath])
  writeFileSync(extPath, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    // Prosody (LuaSec) checks a client certificate's chain with the server purpose: list both.
    'extendedKeyUsage=serverAuth,clientAuth',
    `subjectAltName=otherName:1.3.6.1.5.5.7.8.5;UTF8:${jid}`
  ].join('\n'))
  openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${jid}`, '-out', csrPath])
  openssl(['x509', '-req', '-in', csrPath, '-CA', pki.ca.certPath, '-CAkey', pki.ca.keyPath, '-CAcreateserial', '-days', '30',
    '-sha256', '-extfile', extPath, '-out', certPath])
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath }
}

function lua (s: string): string {
  return JSON.stringify(s)
}

function logTail (dir: string): string {
  try { return readFileSync(join(dir, 'prosody.log'), 'utf8').split('\n').slice(-15).join('\n') } catch { return '' }
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')) })
    })
  })
}

async function waitForPort (port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>(resolve => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => { resolve(false) })
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`prosody did not listen on ${port} within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
