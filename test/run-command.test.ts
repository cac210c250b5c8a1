import { describe, expect, it } from 'vitest'
import { runCommand } from '@mqtt-oidc/test-support/run-command'

describe('runCommand', () => {
  it('gives the exit code of a command that exits without reading its input (no EPIPE thrown at the test run)', async () => {
    // A pipe larger than the kernel's buffer: `true` exits before reading any of it, and writing the rest fails with EPIPE.
    expect(await runCommand('true', [], { input: 'x'.repeat(4 << 20) })).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('passes input to a command that reads it', async () => {
    expect(await runCommand('cat', [], { input: 'hello\n' })).toEqual({ code: 0, stdout: 'hello\n', stderr: '' })
  })
})
