import assert from 'node:assert/strict'
import { parseXml } from '../../../src/openadr/codec/xml.js'
import { esc } from '../../../src/openadr/codec/writer.js'

describe('codec/xml: strict parser', () => {
  it('resolves the same tag text to different namespaces under different declarations, parse after parse', () => {
    for (let i = 0; i < 3; i++) {
      const a = parseXml('<r xmlns:p="urn:a"><p:x k="1"/></r>')
      const b = parseXml('<r xmlns:p="urn:b"><p:x k="1"/></r>')
      assert.equal(a.children[0]?.ns, 'urn:a')
      assert.equal(b.children[0]?.ns, 'urn:b')
      assert.deepEqual(a.children[0]?.attributes, [{ ns: '', name: 'k', value: '1' }])
    }
    const nested = parseXml('<r xmlns="urn:d"><x xmlns="urn:e"><y/></x><y/></r>')
    assert.deepEqual([nested.ns, nested.children[0]?.ns, nested.children[0]?.children[0]?.ns, nested.children[1]?.ns], ['urn:d', 'urn:e', 'urn:e', 'urn:d'])
  })

  it('decodes the predefined and numeric references, and CDATA, in text and attributes', () => {
    const e = parseXml('<r a="&lt;&#65;&#x42;&quot;">x &amp; y<![CDATA[<&>]]></r>')
    assert.equal(e.text, 'x & y<&>')
    assert.equal(e.attributes[0]?.value, '<AB"')
  })

  it('refuses what is not well-formed', () => {
    const bad = ['<r a="1" a="2"/>', '<r xmlns:p="u" p:a="1" xmlns:q="u" q:a="2"/>', '<p:r/>', '<r><x></r>', '<r a=1/>', '<r/><r/>',
      '<r>&#0;</r>', '<1r/>', '<r>]]></r>', '<r><!-- a -- b --></r>', '<r xmlns:p=""/>', '<?xml version="1.0"?><?xml version="1.0"?><r/>']
    for (const xml of bad) assert.throws(() => parseXml(xml), { name: 'XmlSyntaxError' }, xml)
  })

  it('refuses nesting deeper than maxDepth and documents longer than maxLength', () => {
    assert.throws(() => parseXml('<a>'.repeat(70) + '</a>'.repeat(70)), { name: 'XmlSyntaxError' })
    assert.throws(() => parseXml(`<r>${'x'.repeat(100)}</r>`, { maxLength: 50 }), { name: 'XmlSyntaxError' })
  })

  it('writes text that quotes characters XML cannot carry as U+FFFD, so the answer stays parseable', () => {
    const hostile = 'a\u0000b\u001Fc\uFFFEd\uD800e & <f>'
    const text = esc(hostile)
    assert.equal(text, 'a\uFFFDb\uFFFDc\uFFFDd\uFFFDe &amp; &lt;f&gt;')
    assert.doesNotThrow(() => parseXml(`<x>${text}</x>`))
    assert.equal(esc('plain 😀 text'), 'plain 😀 text')
  })
})
