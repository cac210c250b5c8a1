import { relative } from 'node:path'
import { BaseSequencer } from 'vitest/node'
import type { TestSpecification } from 'vitest/node'

/**
 * Test files that run for minutes by design, longest first: the soak's
 * short form must outlast every default timeout twice, and the compose test
 * builds images and starts the whole stack on podman.
 */
export const LONG_RUNNING_TEST_FILES = ['test/soak.test.ts', 'test/docker-compose-podman.test.ts']

/**
 * Vitest's order (files that failed last time first, then the longest last
 * time, and on a fresh clone, with no durations cached, the largest files
 * first), except that the long-running files start first. On a fresh clone
 * (CI) the soak's small file came 147th of 148 and ran its 280 s while the
 * other worker had nothing left to do.
 */
export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const rank = (spec: TestSpecification): number => {
      const at = LONG_RUNNING_TEST_FILES.indexOf(relative(this.ctx.config.root, spec.moduleId).split('\\').join('/'))
      return at === -1 ? LONG_RUNNING_TEST_FILES.length : at
    }
    return sorted.sort((a, b) => rank(a) - rank(b)) // stable: the rest keep vitest's order
  }
}
