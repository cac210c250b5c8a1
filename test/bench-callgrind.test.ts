import { describe, expect, it } from 'vitest'
import { callgrindTotals, estimatedCycles } from '../bench/lib/callgrind.js'

// The head and tail of a dump as valgrind 3.19's callgrind writes it with --cache-sim=yes.
const DUMP = `# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  node --import tsx bench/lib/bench-broker.ts
part: 1

desc: I1 cache: 32768 B, 64 B, 8-way associative
desc: Timerange: Basic block 1 - 2
desc: Trigger: Client Request: dump

positions: line
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw

summary: 2817649246 728222897 359565916 18985195 14173073 3382835 43382 555022 851046

fl=(1) ???
fn=(1) 0x0000000000108090
0 3 1
totals: 2817649246 728222897 359565916 18985195 14173073 3382835 43382 555022 851046
`

describe("bench:connect-instructions' reading of callgrind", () => {
  it('reads the totals of a dump by event name', () => {
    expect(callgrindTotals(DUMP)).toEqual({
      Ir: 2817649246,
      Dr: 728222897,
      Dw: 359565916,
      I1mr: 18985195,
      D1mr: 14173073,
      D1mw: 3382835,
      ILmr: 43382,
      DLmr: 555022,
      DLmw: 851046,
    })
  })

  it("estimates cycles as cachegrind's manual does: 10 per first-level miss, 100 per last-level miss", () => {
    expect(estimatedCycles({ Ir: 1000, I1mr: 1, D1mr: 2, D1mw: 3, ILmr: 1, DLmr: 0, DLmw: 1 })).toBe(1000 + 60 + 200)
    expect(estimatedCycles({ Ir: 500 })).toBe(500)
  })

  it('refuses what is not a dump, such as a file cut before its summary', () => {
    expect(() => callgrindTotals('# callgrind format\nevents: Ir\n')).toThrow('not a callgrind dump')
  })
})
