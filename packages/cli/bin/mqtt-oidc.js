#!/usr/bin/env node
// Launcher of the `mqtt-oidc` CLI. It imports "#cli-main" (package.json
// "imports"): the compiled CLI in dist/ (built by `npm start`, `npm run build`
// or the image), or, under the "@mqtt-oidc/source" condition, the TypeScript
// sources, which is how the tests and development run this same launcher:
//   node --conditions=@mqtt-oidc/source --import tsx packages/client/bin/mqtt-oidc.js
// In-process: signals (Ctrl-C in `sub`), stdin and the exit code need no forwarding.
try {
  await import('#cli-main')
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/cli/main.js')) {
    const root = new URL('../../..', import.meta.url).pathname
    process.stderr.write(`mqtt-oidc is not built yet: run \`npm run build\` (or \`npm start\`) in ${root}\n`)
    process.exit(1)
  }
  throw err
}
