#!/usr/bin/env node
// Launcher of the `mqtt-oidc` CLI. Packages run from their TypeScript
// sources (no build step, nothing stale), so this registers tsx's ESM loader
// in this process and imports src/cli/main.ts. In-process rather than a
// child process: signals (Ctrl-C in `sub`), stdin and the exit code need no
// forwarding.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
