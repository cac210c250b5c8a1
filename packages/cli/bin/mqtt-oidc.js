#!/usr/bin/env node
// Launcher of the `mqtt-oidc` CLI. It imports "#cli-main" (package.json
// "imports"): the compiled CLI in dist/ (built by `npm start`, `npm run build`
// or the image), or, under the "@mqtt-oidc/source" condition, the TypeScript
// sources, which is how the tests and development run this same launcher:
//   node --conditions=@mqtt-oidc/source --import tsx packages/cli/bin/mqtt-oidc.js
// In-process: signals (Ctrl-C in `sub`), stdin and the exit code need no forwarding.
try {
  await import('#cli-main')
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/main.js')) {
    process.stderr.write('mqtt-oidc is not built yet: run `npm run build` (or `npm start`) at the root of the mqtt-oidc repository\n')
    process.exit(1)
  }
  throw err
}
