import jsqr from 'jsqr'
import qrcodeTerminal from 'qrcode-terminal'
import { describe, expect, it } from 'vitest'
import { renderQr } from '../src/lib/render-qr.js'

// What a phone sees: the terminal's characters drawn as pixels, in the
// colours the escape codes set, or the theme's own where none is set, then
// read by jsQR as a scanner does, not inverting the image (most phones do
// not look for a light-on-dark code).

type Decode = (data: Uint8ClampedArray, width: number, height: number, options?: { inversionAttempts?: 'dontInvert' }) => { data: string } | null
// jsqr is CommonJS typed as `export default`: under NodeNext the default import is its module.exports, whatever the types say.
const jsQR = ((jsqr as unknown as { default?: Decode }).default ?? jsqr) as unknown as Decode

const URL_TO_SCAN = 'http://localhost:4000/device?user_code=WDJB-MJHT'
const SCALE = 4

type Theme = { readonly fg: number; readonly bg: number }
const DARK: Theme = { fg: 230, bg: 20 }
const LIGHT: Theme = { fg: 20, bg: 240 }

/** Each character is one pixel wide and two high (its upper and lower half). */
function pixels(text: string, theme: Theme): number[][] {
  const rows: number[][] = []
  for (const line of text.split('\n')) {
    const top: number[] = []
    const bottom: number[] = []
    let fg = theme.fg
    let bg = theme.bg
    // eslint-disable-next-line no-control-regex -- the terminal's escape sequences are what this test reads
    for (const token of line.match(/\x1b\[[\d;]*m|[^\x1b]/gu) ?? []) {
      // eslint-disable-next-line no-control-regex -- as above
      const sgr = /^\x1b\[([\d;]*)m$/.exec(token)
      if (sgr) {
        for (const code of (sgr[1] || '0').split(';').map(Number)) {
          if (code === 0) [fg, bg] = [theme.fg, theme.bg]
          else if (code === 30) fg = 0
          else if (code === 97 || code === 37) fg = 255
          else if (code === 40) bg = 0
          else if (code === 107 || code === 47) bg = 255
        }
        continue
      }
      const [upper, lower] = token === '▀' ? [fg, bg] : token === '▄' ? [bg, fg] : token === '█' ? [fg, fg] : [bg, bg]
      top.push(upper)
      bottom.push(lower)
    }
    rows.push(top, bottom)
  }
  return rows
}

/** The text as an RGBA image with a margin in the theme's background, decoded by jsQR without inverting. */
function scan(text: string, theme: Theme): string | undefined {
  const grid = pixels(text, theme)
  const width = (Math.max(...grid.map((r) => r.length)) + 8) * SCALE
  const height = (grid.length + 8) * SCALE
  const data = new Uint8ClampedArray(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = grid[Math.floor(y / SCALE) - 4]?.[Math.floor(x / SCALE) - 4] ?? theme.bg
      data.set([v, v, v, 255], (y * width + x) * 4)
    }
  }
  return jsQR(data, width, height, { inversionAttempts: 'dontInvert' })?.data
}

describe("renderQr (the device login's QR code)", () => {
  it('decodes on a dark and on a light terminal', () => {
    const text = renderQr(URL_TO_SCAN)
    expect(scan(text, DARK)).toBe(URL_TO_SCAN)
    expect(scan(text, LIGHT)).toBe(URL_TO_SCAN)
  })

  it('keeps a quiet zone of 4 light modules on every side', () => {
    const grid = pixels(renderQr(URL_TO_SCAN), DARK)
    for (const row of grid.slice(0, 4)) expect(new Set(row)).toEqual(new Set([255]))
    for (const row of grid) expect(row.slice(0, 4)).toEqual([255, 255, 255, 255])
  })

  it("(the reason) qrcode-terminal's small mode decodes on a dark terminal only", () => {
    let text = ''
    qrcodeTerminal.generate(URL_TO_SCAN, { small: true }, (code) => {
      text = code
    })
    expect(scan(text, DARK)).toBe(URL_TO_SCAN)
    expect(scan(text, LIGHT)).toBeUndefined()
  })
})
