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
  // Revocations, their events and the revision counter outlive the broker record (no cascade):
  // a broker deleted and created again continues its revision, so running followers take its
  // new events, and still refuses the tokens revoked before. SQLite cannot drop a foreign key,
  // so the three tables are rebuilt. Indexes for pruning and for counting live credentials.
  `
  CREATE TABLE revocations_next (
    broker TEXT NOT NULL, jti TEXT NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER,
    PRIMARY KEY (broker, jti)
  );
  INSERT INTO revocations_next SELECT broker, jti, revoked_at, expires_at FROM revocations;
  DROP TABLE revocations;
  ALTER TABLE revocations_next RENAME TO revocations;
  CREATE INDEX revocations_expires ON revocations (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE revocation_events_next (
    broker TEXT NOT NULL, revision INTEGER NOT NULL, jti TEXT NOT NULL, action TEXT NOT NULL,
    expires_at INTEGER, at INTEGER NOT NULL,
    PRIMARY KEY (broker, revision)
  );
  INSERT INTO revocation_events_next SELECT broker, revision, jti, action, expires_at, at FROM revocation_events;
  DROP TABLE revocation_events;
  ALTER TABLE revocation_events_next RENAME TO revocation_events;
  CREATE INDEX revocation_events_expires ON revocation_events (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE broker_revisions_next (broker TEXT PRIMARY KEY, revision INTEGER NOT NULL);
  INSERT INTO broker_revisions_next SELECT broker, revision FROM broker_revisions;
  DROP TABLE broker_revisions;
  ALTER TABLE broker_revisions_next RENAME TO broker_revisions;

  CREATE INDEX credentials_broker_expires ON credentials (broker, expires_at);
  CREATE INDEX credentials_expires ON credentials (expires_at) WHERE expires_at IS NOT NULL;
  DROP INDEX credentials_broker;
  `,
  // One owner per MQTT client id (accounts, their per-login leases, other
  // issuers' subjects). Ids that one account lists become its own; an id that
  // several accounts list is recorded as a conflict that nobody may use until
  // an admin removes it from all but one (reported, never silently picked).
  // Live per-login leases keep their derived ids. Account cut-offs void the
  // tokens of a disabled account; credentials are found by subject to revoke them.
  `
  CREATE TABLE client_id_owners (
    client_id TEXT PRIMARY KEY, source TEXT NOT NULL,
    account_id TEXT, issuer TEXT, subject TEXT,
    expires_at INTEGER, created_at INTEGER NOT NULL
  );
  CREATE INDEX client_id_owners_account ON client_id_owners (account_id) WHERE account_id IS NOT NULL;
  CREATE INDEX client_id_owners_subject ON client_id_owners (issuer, subject) WHERE issuer IS NOT NULL;
  INSERT INTO client_id_owners (client_id, source, account_id, created_at)
    SELECT ids.value,
      CASE WHEN COUNT(DISTINCT accounts.id) = 1 THEN 'configured' ELSE 'conflict' END,
      CASE WHEN COUNT(DISTINCT accounts.id) = 1 THEN MIN(accounts.id) END,
      MIN(accounts.created_at)
    FROM accounts, json_each(accounts.client_ids) AS ids GROUP BY ids.value;
  INSERT OR IGNORE INTO client_id_owners (client_id, source, account_id, expires_at, created_at)
    SELECT json_extract(lease.value, '$.clientId'), 'lease', oidc_records.id, oidc_records.expires_at, CAST(strftime('%s', 'now') AS INTEGER)
    FROM oidc_records, json_each(oidc_records.payload, '$.grants') AS lease
    WHERE oidc_records.model = 'ClientIdLease' AND json_extract(lease.value, '$.clientId') <> json_extract(lease.value, '$.base');

  CREATE TABLE account_cutoffs (
    account_id TEXT PRIMARY KEY, not_before INTEGER NOT NULL, revision INTEGER NOT NULL UNIQUE
  );
  CREATE INDEX credentials_issued_by ON credentials (issued_by);
  `,
  // OAuth clients registered at the IdP (the built-in CLI and admin clients are not stored).
  `CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY, name TEXT NOT NULL, application_type TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL, secret_hash TEXT,
    redirect_uris TEXT NOT NULL, post_logout_redirect_uris TEXT NOT NULL, grant_types TEXT NOT NULL, scopes TEXT NOT NULL,
    id_token_signed_response_alg TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );`,
  // What the exchange and the IdP kept as untyped records in oidc_records move to typed
  // columns and a table of their own: each broker's policy and revocation-feed credential
  // (its SHA-256; kept only when it was issued for this broker, not a deleted one of the
  // same id), the expiry of the last token each signing key signed, and the per-login
  // client id of each grant (one row per grant instead of one record per account).
  `
  ALTER TABLE brokers ADD COLUMN client_id_mode TEXT NOT NULL DEFAULT 'claim';
  ALTER TABLE brokers ADD COLUMN acl_templates TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE brokers ADD COLUMN max_lifetime INTEGER;
  ALTER TABLE brokers ADD COLUMN rate_limit_requests INTEGER;
  ALTER TABLE brokers ADD COLUMN rate_limit_window INTEGER;
  ALTER TABLE brokers ADD COLUMN profile TEXT NOT NULL DEFAULT 'default';
  ALTER TABLE brokers ADD COLUMN allowed_issuers TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE brokers ADD COLUMN alg TEXT NOT NULL DEFAULT 'EdDSA';
  ALTER TABLE brokers ADD COLUMN resource_server_id TEXT;
  ALTER TABLE brokers ADD COLUMN feed_credential_sha256 TEXT;
  ALTER TABLE brokers ADD COLUMN feed_credential_issued_at INTEGER;
  UPDATE brokers SET
    client_id_mode = COALESCE(json_extract(p.payload, '$.clientIdMode'), brokers.client_id_mode),
    acl_templates = COALESCE(json_extract(p.payload, '$.aclTemplates'), brokers.acl_templates),
    max_lifetime = json_extract(p.payload, '$.maxLifetime'),
    rate_limit_requests = json_extract(p.payload, '$.rateLimit.requests'),
    rate_limit_window = json_extract(p.payload, '$.rateLimit.windowSeconds'),
    profile = COALESCE(json_extract(p.payload, '$.profile'), brokers.profile),
    allowed_issuers = COALESCE(json_extract(p.payload, '$.allowedIssuers'), brokers.allowed_issuers),
    alg = COALESCE(json_extract(p.payload, '$.alg'), brokers.alg),
    resource_server_id = json_extract(p.payload, '$.resourceServerId')
  FROM oidc_records AS p WHERE p.model = 'MqttOidcBrokerPolicy' AND p.id = brokers.id;
  UPDATE brokers SET
    feed_credential_sha256 = json_extract(f.payload, '$.sha256'),
    feed_credential_issued_at = json_extract(f.payload, '$.issuedAt')
  FROM oidc_records AS f
  WHERE f.model = 'MqttOidcFeedCredential' AND f.id = brokers.id AND json_extract(f.payload, '$.brokerCreatedAt') = brokers.created_at;

  ALTER TABLE signing_keys ADD COLUMN last_token_expires_at INTEGER;
  ALTER TABLE signing_keys ADD COLUMN unexpiring_tokens INTEGER NOT NULL DEFAULT 0;
  UPDATE signing_keys SET
    last_token_expires_at = json_extract(u.payload, '$.lastExp'),
    unexpiring_tokens = COALESCE(json_type(u.payload, '$.lastExp') = 'null', 0)
  FROM oidc_records AS u WHERE u.model = 'MqttOidcKeyUsage' AND u.id = signing_keys.kid;

  CREATE TABLE client_id_leases (
    grant_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, client_id TEXT NOT NULL, base TEXT NOT NULL, expires_at INTEGER
  );
  CREATE INDEX client_id_leases_account ON client_id_leases (account_id);
  CREATE INDEX client_id_leases_expires ON client_id_leases (expires_at) WHERE expires_at IS NOT NULL;
  INSERT OR IGNORE INTO client_id_leases (grant_id, account_id, client_id, base, expires_at)
    SELECT lease.key, r.id, json_extract(lease.value, '$.clientId'), json_extract(lease.value, '$.base'), r.expires_at
    FROM oidc_records AS r, json_each(r.payload, '$.grants') AS lease
    WHERE r.model = 'ClientIdLease' AND json_extract(lease.value, '$.clientId') IS NOT NULL AND json_extract(lease.value, '$.base') IS NOT NULL;

  DELETE FROM oidc_records WHERE model IN ('MqttOidcBrokerPolicy', 'MqttOidcFeedCredential', 'MqttOidcKeyUsage', 'ClientIdLease');
  `,
  // Live MQTT sessions as broker nodes report them (the console's view; rows come and go with
  // connections, so no foreign key: a deleted broker's nodes simply stop reporting and are pruned),
  // and an index to list a broker's credentials newest first.
  `
  CREATE TABLE session_nodes (
    broker TEXT NOT NULL, node TEXT NOT NULL, seq INTEGER NOT NULL, reported_at INTEGER NOT NULL, sessions INTEGER NOT NULL,
    PRIMARY KEY (broker, node)
  );
  CREATE INDEX session_nodes_reported ON session_nodes (reported_at);
  CREATE TABLE broker_sessions (
    broker TEXT NOT NULL, node TEXT NOT NULL, connection TEXT NOT NULL,
    client_id TEXT NOT NULL, username TEXT, jti TEXT NOT NULL,
    connected_at INTEGER NOT NULL, expires_at INTEGER, remote_address TEXT,
    PRIMARY KEY (broker, node, connection)
  );
  CREATE INDEX broker_sessions_connected ON broker_sessions (broker, connected_at);
  CREATE INDEX broker_sessions_client_id ON broker_sessions (broker, client_id);
  CREATE INDEX broker_sessions_jti ON broker_sessions (broker, jti);
  CREATE TABLE session_revisions (broker TEXT PRIMARY KEY, revision INTEGER NOT NULL);
  CREATE INDEX credentials_broker_issued ON credentials (broker, issued_at, jti);
  `,
]
