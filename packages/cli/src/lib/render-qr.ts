import { createRequire } from 'node:module'

interface QrMatrix {
  addData(data: string): void
  make(): void
  getModuleCount(): number
  isDark(row: number, col: number): boolean
}
type QrCodeClass = new (typeNumber: number, errorCorrectLevel: number) => QrMatrix

// qrcode-terminal's encoder (CommonJS, untyped); its own renderer is not used: see renderQr.
const require = createRequire(import.meta.url)
const QRCode = require('qrcode-terminal/vendor/QRCode') as QrCodeClass
const LEVEL_M = (require('qrcode-terminal/vendor/QRCode/QRErrorCorrectLevel') as { M: number }).M

/** Light modules on every side (ISO/IEC 18004 asks for 4): scanners find the code by its edge. */
const QUIET_ZONE = 4
const DARK_FG = '\x1b[30m'
const DARK_BG = '\x1b[40m'
const LIGHT_FG = '\x1b[97m'
const LIGHT_BG = '\x1b[107m'
const RESET = '\x1b[0m'

/**
 * A QR code of `text` for a terminal, two modules per character (the upper
 * half block, ▀, its foreground the upper module and its background the
 * lower). Every cell sets both colours, black on bright white, so the code
 * reads the same on a dark or a light terminal; qrcode-terminal's own small
 * mode draws light modules in the terminal's text colour and leaves dark ones
 * to its background, which comes out inverted (unreadable to most phones) on a
 * light terminal, with one module of quiet zone instead of four.
 */
export function renderQr(text: string): string {
  const qr = new QRCode(-1, LEVEL_M)
  qr.addData(text)
  qr.make()
  const count = qr.getModuleCount()
  const size = count + 2 * QUIET_ZONE
  const dark = (row: number, col: number): boolean => {
    const r = row - QUIET_ZONE
    const c = col - QUIET_ZONE
    return r >= 0 && c >= 0 && r < count && c < count && qr.isDark(r, c)
  }
  const lines: string[] = []
  for (let row = 0; row < size; row += 2) {
    let line = ''
    let colours = ''
    for (let col = 0; col < size; col++) {
      const next = (dark(row, col) ? DARK_FG : LIGHT_FG) + (row + 1 < size && dark(row + 1, col) ? DARK_BG : LIGHT_BG)
      if (next !== colours) line += next
      colours = next
      line += '▀'
    }
    lines.push(`${line}${RESET}`)
  }
  return lines.join('\n')
}
