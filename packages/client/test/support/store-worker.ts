// Child process of create-token-store.test.ts: `tsx store-worker.ts <dir> <name> <n>`.
// Increments a shared counter n times through update() and sets n keys of its own,
// interleaved, so a lost update or a lost key shows up in the parent's assertions.
import { createTokenStore } from '../../src/create-token-store.js'

const [dir, name, n] = process.argv.slice(2)
if (!dir || !name || !n) throw new Error('usage: store-worker <dir> <name> <n>')
const store = createTokenStore(dir)
const shared = { issuer: 'http://127.0.0.1:1', clientId: 'shared' }
for (let i = 0; i < Number(n); i += 1) {
  await store.update(shared, async (cur) => ({ idToken: 'x', expiresAt: (cur?.expiresAt ?? 0) + 1 }))
  await store.set({ issuer: 'http://127.0.0.1:1', clientId: `${name}-${i}` }, { idToken: `${name}-${i}`, expiresAt: i })
}
