import type { Reporter } from 'vitest/reporters'

type Task = { type: string; mode?: string; result?: { state?: string }; tasks?: Task[] }

/**
 * Ends the run with one plain line, `tests: N passed, N failed, N skipped`,
 * that any CI reader can count without knowing vitest's own format.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: Task[] = [], errors: unknown[] = []): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    const walk = (task: Task): void => {
      if (task.type === 'test') {
        const state = task.result?.state
        if (state === 'pass') passed++
        else if (state === 'fail') failed++
        else skipped++
      }
      for (const child of task.tasks ?? []) walk(child)
    }
    for (const file of files) {
      walk(file)
      if (file.result?.state === 'fail' && (file.tasks ?? []).length === 0) failed++
    }
    failed += errors.length
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}
