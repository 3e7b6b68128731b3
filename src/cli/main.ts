/**
 * The `adrmesh` command line: a table of sub-commands, each in its own module under `src/cli/`, loaded
 * only when asked for so that `adrmesh vtn` does not pay for libp2p and `adrmesh --help` loads nothing.
 */
export interface Command {
  /** One line for `adrmesh --help`. */
  summary: string
  /** Runs the command; resolves to the process exit code. */
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>
}

export const commands: Record<string, Command> = {
  audit: { summary: 'verify an exported audit trail (hash chain and signed head)', load: async () => await import('./audit.js') },
  node: { summary: 'run a virtual node (VEN upward, VTN downward, JSON API)', load: async () => await import('./node.js') },
  simulate: { summary: 'simulate nodes, customers and a utility; figures, JSON and HTML report', load: async () => await import('./simulate.js') },
  demo: { summary: 'three nodes, fifty customers each, one event with failures (npm start)', load: async () => await import('./demo.js') },
  vtn: { summary: 'run a stand-alone OpenADR 2.0b VTN (HTTP/HTTPS, signatures, operator JSON API)', load: async () => await import('./vtn.js') },
  ven: { summary: 'run a stand-alone OpenADR 2.0b VEN against any 2.0b VTN (pull or push)', load: async () => await import('./ven.js') }
}

export function usage (): string {
  const width = Math.max(...Object.keys(commands).map(name => name.length), 4)
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  return [
    'adrmesh: OpenADR 2.0b virtual nodes for distributed demand response',
    '',
    'Usage: adrmesh <command> [options]      (adrmesh <command> --help for its options)',
    '',
    'Commands:',
    ...lines
  ].join('\n')
}

export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage())
    return name === undefined ? 1 : 0
  }
  const command = commands[name]
  if (command === undefined) {
    console.error(`adrmesh: unknown command '${name}'\n\n${usage()}`)
    return 2
  }
  const mod = await command.load()
  return await mod.run(rest)
}
