import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

/** Where screenshots go (gitignored). */
export const ARTIFACTS_DIR = resolve(import.meta.dirname, '../../../test-artifacts/idp-browser')

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]

export interface Chromium {
  readonly context: BrowserContext
  /** A new tab that records Content-Security-Policy violations and page errors into `problems`. */
  newPage(): Promise<Page>
  readonly problems: string[]
  screenshot(page: Page, name: string): Promise<void>
  close(): Promise<void>
}

/**
 * Debian's Chromium, headless, with a fresh profile (one per test file:
 * launching is the slow part). The test fails if it cannot start: a test
 * that needs a system server starts it itself, and never passes without it.
 */
export async function launchChromium(): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'idp-chromium-'))
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS, viewport: { width: 480, height: 720 },
  })
  const problems: string[] = []
  return {
    context,
    problems,
    async newPage() {
      const page = await context.newPage()
      // Fail with the reason within the test's time, not at vitest's timeout.
      page.setDefaultTimeout(10_000)
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text())
      })
      page.on('pageerror', (err) => problems.push(err.message))
      return page
    },
    async screenshot(page, name) {
      await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true })
    },
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
