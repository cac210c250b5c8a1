/**
 * Versioned schema migrations for the SQLite store. Each entry runs once, in
 * order, inside a transaction; `schema_migrations` records what has run.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE oidc_records (
    model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
    grant_id TEXT, user_code TEXT, uid TEXT, expires_at INTEGER,
    PRIMARY KEY (model, id)
  );
  CREATE INDEX oidc_records_grant ON oidc_records (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX oidc_records_user_code ON oidc_records (model, user_code) WHERE user_code IS NOT NULL;
  CREATE INDEX oidc_records_uid ON oidc_records (model, uid) WHERE uid IS NOT NULL;
  CREATE INDEX oidc_records_expires ON oidc_records (expires_at);

  CREATE TABLE accounts (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    client_ids TEXT NOT NULL, groups TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE brokers (
    id TEXT PRIMARY KEY, expiration INTEGER, acl TEXT NOT NULL, url TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );

  CREATE TABLE credentials (
    jti TEXT PRIMARY KEY,
    broker TEXT NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL, username TEXT, issued_at INTEGER NOT NULL, expires_at INTEGER,
    source TEXT NOT NULL, issued_by TEXT NOT NULL
  );
  CREATE INDEX credentials_broker ON credentials (broker);

  CREATE TABLE revocations (
    broker TEXT NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
    jti TEXT NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER,
    PRIMARY KEY (broker, jti)
  );
  CREATE TABLE revocation_events (
    broker TEXT NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL, jti TEXT NOT NULL, action TEXT NOT NULL,
    expires_at INTEGER, at INTEGER NOT NULL,
    PRIMARY KEY (broker, revision)
  );
  CREATE TABLE broker_revisions (
    broker TEXT PRIMARY KEY REFERENCES brokers (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL
  );

  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY, alg TEXT NOT NULL, owner TEXT NOT NULL, private_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL, retired_at INTEGER
  );
  `,
  // Each sign-in gets its own MQTT client id unless an admin made the account 'shared'.
  `ALTER TABLE accounts ADD COLUMN client_id_mode TEXT NOT NULL DEFAULT 'per-login';`,
  // OAuth clients registered at the IdP (the built-in CLI and admin clients are not stored).
  `CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY, name TEXT NOT NULL, application_type TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL, secret_hash TEXT,
    redirect_uris TEXT NOT NULL, post_logout_redirect_uris TEXT NOT NULL, grant_types TEXT NOT NULL, scopes TEXT NOT NULL,
    id_token_signed_response_alg TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );`,
]
