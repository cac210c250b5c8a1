import { spawn } from 'node:child_process'

/**
 * Asks the desktop to open `url` (`xdg-open`, macOS `open`, Windows `start`),
 * detached, output ignored. Returns false when no opener could be started;
 * the caller prints the URL either way, since the opener may still fail.
 */
export function openBrowser(url: string): boolean {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]]
    : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]]
      : ['xdg-open', [url]]
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' })
    child.on('error', () => undefined) // not installed: the URL is printed anyway
    child.unref()
    return true
  } catch {
    return false
  }
}
