/**
 * Test PKI made with Debian's `openssl`: a CA, a server certificate for 127.0.0.1/localhost, client
 * certificates by name, and a second CA that nobody trusts. RSA or ECDSA (P-256); made once per process.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type KeyKind = 'rsa' | 'ecdsa'

export interface CertAndKey {
  cert: string
  key: string
  /** Paths of the PEM files, for a CLI under test. */
  certPath: string
  keyPath: string
}

export interface TestPki {
  kind: KeyKind
  dir: string
  ca: CertAndKey
  /** Server certificate valid for 127.0.0.1 and localhost. */
  server: CertAndKey
  /** A client certificate issued by the CA, made on first use per name. */
  client: (name: string) => CertAndKey
  /** A certificate for `name` issued by a CA the test CA does not know. */
  rogue: (name: string) => CertAndKey
}

const made = new Map<KeyKind, TestPki>()

export function testPki (kind: KeyKind = 'ecdsa'): TestPki {
  const existing = made.get(kind)
  if (existing !== undefined) return existing
  const dir = mkdtempSync(join(tmpdir(), `adrmesh-pki-${kind}-`))
  const ca = selfSigned(dir, kind, 'ca', 'adrmesh test CA')
  const rogueCa = selfSigned(dir, kind, 'rogue-ca', 'adrmesh rogue CA')
  const clients = new Map<string, CertAndKey>()
  const rogues = new Map<string, CertAndKey>()
  const pki: TestPki = {
    kind,
    dir,
    ca,
    server: issue(dir, kind, ca, 'server', 'localhost'),
    client: name => cached(clients, name, () => issue(dir, kind, ca, `client-${name}`, name)),
    rogue: name => cached(rogues, name, () => issue(dir, kind, rogueCa, `rogue-${name}`, name))
  }
  made.set(kind, pki)
  return pki
}

function cached (map: Map<string, CertAndKey>, name: string, make: () => CertAndKey): CertAndKey {
  let entry = map.get(name)
  if (entry === undefined) { entry = make(); map.set(name, entry) }
  return entry
}

function openssl (args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

function newKey (dir: string, kind: KeyKind, stem: string): string {
  const keyPath = join(dir, `${stem}.key`)
  openssl(kind === 'rsa'
    ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]
    : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath])
  return keyPath
}

function selfSigned (dir: string, kind: KeyKind, stem: string, cn: string): CertAndKey {
  const keyPath = newKey(dir, kind, stem)
  const certPath = join(dir, `${stem}.pem`)
  openssl(['req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-days', '30', '-sha256', '-out', certPath,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  return load(certPath, keyPath)
}

function issue (dir: string, kind: KeyKind, ca: CertAndKey, stem: string, cn: string): CertAndKey {
  const keyPath = newKey(dir, kind, stem)
  const csrPath = join(dir, `${stem}.csr`)
  const extPath = join(dir, `${stem}.ext`)
  const certPath = join(dir, `${stem}.pem`)
  writeFileSync(extPath, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost'
  ].join('\n'))
  openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-out', csrPath])
  openssl(['x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-days', '30',
    '-sha256', '-extfile', extPath, '-out', certPath])
  return load(certPath, keyPath)
}

function load (certPath: string, keyPath: string): CertAndKey {
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath }
}
