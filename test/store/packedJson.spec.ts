import { strict as assert } from 'node:assert'
import { jsonCopy, packedJson } from '../../src/store/packedJson.js'

/** What plain JSON storage gives back. */
const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

describe('packed JSON: the stores\' value encoding', () => {
  it('decodes to exactly what plain JSON would give, number series included', () => {
    const series = Array.from({ length: 103 }, (_, i) => Math.sin(i) * 3.7 + 1e-9 * i)
    const values: unknown[] = [
      { venId: 'a0-ven-1', capabilities: { baselineKw: series, flexUpKw: series.map(Math.abs), forecastStartMs: 1_773_763_200_000 }, profile: { n: 3, mean: [0.1, 0.2] } },
      [series, [1, 2, 3], [], [[...series]]],
      { short: [1.5, 2.5], integers: Array.from({ length: 20 }, (_, i) => i * 1_000_000_007), huge: [1e300, 5e-324, -1e-300, 0.1 + 0.2, 1, 2, 3, 4] },
      // JSON writes these as null or 0: they stay JSON.
      { nan: [1, 2, 3, 4, 5, 6, 7, NaN], inf: [1, 2, 3, 4, 5, 6, 7, Infinity], negZero: [-0, 1, 2, 3, 4, 5, 6, 7], holes: Object.assign(new Array<number>(9), { 0: 1, 8: 2 }) },
      { mixed: [1, 2, 3, 4, 5, 6, 7, 'eight'], undef: [1, 2, 3, 4, 5, 6, 7, undefined], missing: undefined },
      // Strings that look like the encoding's markers come back as they were.
      { s: '\u0000f64:AAAAAAAA8D8=', t: '\u0000', u: '\u0000\u0000x', v: 'plain \\u0000 text', list: ['\u0000a', 'b'] },
      { date: new Date(0), nested: { deeper: { rows: { a: series, b: null } } } },
      { fn: () => 1, sym: Symbol('s'), list: [() => 1, Symbol('t'), -0, 2], map: new Map([[1, 2]]), boxed: new Number(3), ['__proto__']: { own: 1 } },
      'text', 42, null, true
    ]
    for (const value of values) {
      const text = packedJson.encode(value)
      assert.deepEqual(packedJson.decode(text), viaJson(value))
      assert.deepEqual(jsonCopy(value), viaJson(value))
    }
    assert.ok(packedJson.encode(values[0]).length < JSON.stringify(values[0]).length / 1.5, 'a forecast packs to well under its JSON')
  })

  it('stores a constant series as its one value and an array of like objects as columns, decoding as JSON would', () => {
    const intervals = Array.from({ length: 96 }, (_, index) => ({ index, requestedKw: 85.75 + index / 7, deliveredKw: index < 50 ? index / 3 : null, interCoveredKw: 0, note: index % 2 === 0 ? 'even' : '\u0000odd', extra: { a: [index], b: undefined } }))
    const values: unknown[] = [
      { upKw: new Array<number>(96).fill(0), downKw: new Array<number>(96).fill(1.25), eight: new Array<number>(8).fill(-3), seven: new Array<number>(7).fill(2), negZero: new Array<number>(9).fill(-0) },
      { intervals, nested: [intervals, intervals.slice(0, 8)] },
      // Arrays of objects that differ stay as they were: other fields, other order, a field JSON leaves out, a date, a class.
      intervals.map((r, i) => i === 5 ? { ...r, more: 1 } : r),
      intervals.map((r, i) => i === 5 ? { requestedKw: r.requestedKw, index: r.index, deliveredKw: r.deliveredKw, interCoveredKw: 0, note: r.note, extra: r.extra } : r),
      intervals.map((r, i) => i === 5 ? { ...r, deliveredKw: undefined } : r),
      intervals.map((r, i) => i === 5 ? { ...r, deliveredKw: new Date(0) } : r),
      intervals.map((r, i) => i === 5 ? Object.assign(new (class Row {})(), { ...r, note: 'x' }) : r),
      new Array<{ a: number }>(9).fill({ a: 1 }).map((r, i) => i === 3 ? {} : r),
      new Array<object>(9).fill({}),
      Array.from({ length: 9 }, (_, i) => JSON.parse(`{"__proto__": ${i}, "x": ${i}}`) as object),
      ['\u0000rows', ['a'], [1, 2]],
      Array.from({ length: 9 }, (_, i) => ({ s: i === 0 ? '\u0000rows' : 'x', n: [NaN, Infinity, -0, i] }))
    ]
    for (const value of values) assert.deepEqual(packedJson.decode(packedJson.encode(value)), viaJson(value))
    assert.equal(JSON.stringify(packedJson.decode(packedJson.encode(values[9]))), JSON.stringify(viaJson(values[9])), 'a __proto__ field stays a field')
    assert.ok(packedJson.encode(new Array<number>(96).fill(0)).length < 30)
    assert.ok(packedJson.encode(intervals).length < JSON.stringify(intervals).length / 2, 'interval results pack to under half their JSON')
  })

  it('reads values stored as plain JSON before', () => {
    const legacy = { venId: 'a0-ven-1', baselineKw: [1.25, 2, 3, 4, 5, 6, 7, 8, 9], note: 'x' }
    assert.deepEqual(packedJson.decode(JSON.stringify(legacy)), legacy)
  })

  it('leaves the value it encodes unchanged', () => {
    const value = { rows: { a: Array.from({ length: 10 }, (_, i) => i / 3) }, s: '\u0000x' }
    const before = structuredClone(value)
    packedJson.encode(value)
    assert.deepEqual(value, before)
  })
})
