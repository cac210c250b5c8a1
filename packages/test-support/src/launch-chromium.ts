import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

/** Where screenshots go (gitignored): one folder per suite under test-artifacts/. */
export const ARTIFACTS_ROOT = resolve(import.meta.dirname, '../../../test-artifacts')

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

export interface ChromiumOptions {
  /** Folder of test-artifacts/ the screenshots go to. Default `idp-browser`. */
  readonly artifacts?: string
  /** Default 480 x 720. */
  readonly viewport?: { readonly width: number; readonly height: number }
  /** Downloads are kept (read them with download.path()). Default false. */
  readonly acceptDownloads?: boolean
}

/**
 * Debian's Chromium, headless, with a fresh profile (one per test file:
 * launching is the slow part). The test fails if it cannot start: a test
 * that needs a system server starts it itself.
 */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'mqtt-oidc-chromium-'))
  const artifacts = join(ARTIFACTS_ROOT, options.artifacts ?? 'idp-browser')
  mkdirSync(artifacts, { recursive: true })
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS, viewport: { ...(options.viewport ?? { width: 480, height: 720 }) },
    acceptDownloads: options.acceptDownloads ?? false,
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
      await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })
    },
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
