/**
 * Validates OpenADR documents against the official 2.0b schema with Debian's `xmllint` (libxml2-utils). Many
 * documents are checked in one xmllint run (loading the schema costs more than validating), so call it
 * with a batch: `await assertSchemaValid([xml1, xml2, …])`.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The official schema, from the shared folder next to the repository. */
export const schemaPath = process.env.OADR_SCHEMA ??
  resolve(fileURLToPath(import.meta.url), '../../../../shared/openadr/schema-2.0b/oadr_20b.xsd')

export interface SchemaResult {
  valid: boolean
  /** xmllint's messages for this document (empty when valid). */
  errors: string[]
}

/** Validates each document; the results are in the same order. */
export async function validateAgainstSchema (documents: readonly string[]): Promise<SchemaResult[]> {
  if (documents.length === 0) return []
  const dir = await mkdtemp(join(tmpdir(), 'adrmesh-xsd-'))
  try {
    const files = documents.map((_, i) => join(dir, `doc${i}.xml`))
    await Promise.all(documents.map(async (doc, i) => { await writeFile(files[i] as string, doc) }))
    const output = await new Promise<string>((resolve, reject) => {
      execFile('xmllint', ['--noout', '--nonet', '--schema', schemaPath, ...files], { maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
        if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error('xmllint not found: apt-get install -y libxml2-utils'))
          return
        }
        resolve(stderr)
      })
    })
    const lines = output.split('\n')
    return files.map(file => {
      const mine = lines.filter(l => l.startsWith(file))
      const valid = mine.some(l => l === `${file} validates`)
      return { valid, errors: valid ? [] : mine.map(l => l.slice(file.length)) }
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Throws with every failing document's messages unless all are schema-valid. */
export async function assertSchemaValid (documents: readonly string[]): Promise<void> {
  const results = await validateAgainstSchema(documents)
  const failures = results.flatMap((r, i) => r.valid ? [] : [`document ${i}:\n  ${r.errors.join('\n  ')}\n${(documents[i] ?? '').slice(0, 2000)}`])
  if (failures.length > 0) throw new Error(`${failures.length} of ${documents.length} documents are not schema-valid:\n${failures.join('\n')}`)
}
