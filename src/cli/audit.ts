/**
 * `adrmesh audit verify FILE [--public-key KEY]`: checks an exported audit trail (hash chain and signed
 * head) without a running node. Exit 0 when valid, 1 when not (naming the first bad line), 2 on usage
 * errors or an unreadable file.
 */
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { verifyTrail } from '../node/auditChain.js'
import { parsePublicKey } from '../node/nodeKey.js'

const help = `Usage: adrmesh audit verify FILE [--public-key KEY]

Checks an audit trail exported by a node (JSON lines: entries, then a signed head per event).

  FILE                the exported trail ('-' reads standard input)
  --public-key KEY    accept only heads signed by this key: base64url raw Ed25519 (as in the head's
                      publicKey), or a file holding it or a PEM (public key, or the node's node-key.pem).
                      Without it the key named in each head is used, which proves the trail unchanged
                      since signing but not who signed it.
Exit: 0 valid, 1 invalid, 2 usage error or unreadable file.`

export async function run (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help)
    return 0
  }
  const [sub, ...rest] = argv
  if (sub !== 'verify') {
    console.error(`adrmesh audit: unknown sub-command ${sub === undefined ? '(none)' : `'${sub}'`}\n\n${help}`)
    return 2
  }
  let file: string | undefined
  let keyArg: string | undefined
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string
    if (arg === '--public-key') keyArg = rest[++i]
    else if (arg.startsWith('--public-key=')) keyArg = arg.slice('--public-key='.length)
    else if (file === undefined && (arg === '-' || !arg.startsWith('-'))) file = arg
    else {
      console.error(`adrmesh audit verify: unexpected argument '${arg}'\n\n${help}`)
      return 2
    }
  }
  if (file === undefined) {
    console.error(`adrmesh audit verify: FILE is required\n\n${help}`)
    return 2
  }
  if (rest.includes('--public-key') && keyArg === undefined) {
    console.error('adrmesh audit verify: --public-key needs a value')
    return 2
  }
  let publicKey: string | undefined
  let text: string
  try {
    if (keyArg !== undefined) publicKey = parsePublicKey(existsSync(keyArg) ? await readFile(keyArg, 'utf8') : keyArg)
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8')
  } catch (err) {
    console.error(`adrmesh audit verify: ${(err as Error).message}`)
    return 2
  }
  const result = verifyTrail(text.split('\n'), publicKey === undefined ? {} : { publicKey })
  if (result.valid) {
    for (const event of result.events) {
      console.log(`valid: event ${event.eventId}, ${event.entries} entries, head signed by ${event.publicKey}`)
    }
    return 0
  }
  const where = [`line ${result.line}`, result.eventId === undefined ? '' : `event ${result.eventId}`,
    result.seq === undefined ? '' : `seq ${result.seq}`].filter(s => s !== '').join(', ')
  console.log(`invalid: ${where}: ${result.reason}`)
  return 1
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
