/**
 * The defaults every caller shares, in one place so the exchange, the IdP
 * and the brokers cannot drift apart.
 */

/** Leeway for `exp`, `nbf` and a future `iat`, seconds. */
export const DEFAULT_CLOCK_TOLERANCE = 5

/** Longest compact JWS accepted, characters (an ID token with a few hundred groups fits). */
export const DEFAULT_MAX_TOKEN_LENGTH = 16_384

/**
 * A NumericDate (`exp`, `nbf`, `iat`) of this or more is refused as a time
 * written in milliseconds: read as milliseconds it is any moment after
 * 2001-09-09, read as seconds a year after 33,000. Legitimate far-future
 * sentinels such as 9999-12-31 (253402300799) stay below it.
 */
export const MAX_NUMERIC_DATE = 1e12

/**
 * JWKS cache: revalidate on a timer this often, ms (each wait drawn from 80-100 % of it). A
 * conditional GET (If-None-Match): an unchanged JWKS costs one bodyless 304, and a removed key
 * stops verifying within a minute.
 */
export const DEFAULT_JWKS_REFRESH_MS = 60_000

/** JWKS cache: least time between two fetches caused by unknown `kid`s, ms. */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000

/** JWKS cache: how long the last good keys keep working while every fetch fails, ms. */
export const DEFAULT_JWKS_MAX_STALE_MS = 3_600_000

/** Key sets: seconds between reloads of the key records, so a rotation made by any process shows up. */
export const DEFAULT_KEY_RELOAD_SECONDS = 60

/**
 * Key sets: seconds a rotated-in key is published before it signs. Longer
 * than every instance takes to reload its keys (60 s), than a verifier waits
 * before refetching a JWKS for an unknown kid (30 s), and than a verifier
 * that only refreshes on a timer keeps a JWKS (our brokers revalidate every
 * 60 s; the JWKS `max-age` and EMQX's JWKS refresh are 300 s): whichever
 * verifier a token reaches already holds its key.
 */
export const DEFAULT_KEY_LEAD_SECONDS = 600

/**
 * Key sets: a shorter lead than this may show a verifier a token before it
 * can hold the key (instances reload keys every 60 s, a verifier refetches
 * for an unknown kid at most every 30 s). The CLI warns below it; 0 is for a
 * single instance that must switch at once.
 */
export const MIN_SAFE_KEY_LEAD_SECONDS = DEFAULT_KEY_RELOAD_SECONDS + DEFAULT_JWKS_COOLDOWN_MS / 1000
