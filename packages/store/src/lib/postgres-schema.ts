/**
 * Versioned schema migrations for the PostgreSQL store: the same tables as
 * the SQLite store (sqlite-schema.ts). Each runs once, in order, inside a
 * transaction, under an advisory lock so instances starting together migrate
 * exactly once.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE oidc_records (
    model TEXT NOT NULL, id TEXT NOT NULL, payload JSONB NOT NULL,
    grant_id TEXT, user_code TEXT, uid TEXT, expires_at BIGINT,
    PRIMARY KEY (model, id)
  );
  CREATE INDEX oidc_records_grant ON oidc_records (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX oidc_records_user_code ON oidc_records (model, user_code) WHERE user_code IS NOT NULL;
  CREATE INDEX oidc_records_uid ON oidc_records (model, uid) WHERE uid IS NOT NULL;
  CREATE INDEX oidc_records_expires ON oidc_records (expires_at);

  CREATE TABLE accounts (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    client_ids JSONB NOT NULL, groups JSONB NOT NULL, disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE brokers (
    id TEXT PRIMARY KEY, expiration BIGINT, acl JSONB NOT NULL, url TEXT,
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL
  );

  CREATE TABLE credentials (
    jti TEXT PRIMARY KEY,
    broker TEXT NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL, username TEXT, issued_at BIGINT NOT NULL, expires_at BIGINT,
    source TEXT NOT NULL, issued_by TEXT NOT NULL
  );
  CREATE INDEX credentials_broker ON credentials (broker);

  CREATE TABLE revocations (
    broker TEXT NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
    jti TEXT NOT NULL, revoked_at BIGINT NOT NULL, expires_at BIGINT,
    PRIMARY KEY (broker, jti)
  );
  CREATE TABLE revocation_events (
    broker TEXT NOT NULL REFERENCES brokers (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL, jti TEXT NOT NULL, action TEXT NOT NULL,
    expires_at BIGINT, at BIGINT NOT NULL,
    PRIMARY KEY (broker, revision)
  );
  CREATE TABLE broker_revisions (
    broker TEXT PRIMARY KEY REFERENCES brokers (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL
  );

  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY, alg TEXT NOT NULL, owner TEXT NOT NULL, private_jwk JSONB NOT NULL,
    created_at BIGINT NOT NULL, retired_at BIGINT
  );
  `,
  // Each sign-in gets its own MQTT client id unless an admin made the account 'shared'.
  `ALTER TABLE accounts ADD COLUMN client_id_mode TEXT NOT NULL DEFAULT 'per-login';`,
  // Revocations, their events and the revision counter outlive the broker record (no cascade):
  // a broker deleted and created again continues its revision, so running followers take its
  // new events, and still refuses the tokens revoked before. Indexes for pruning and for
  // counting live credentials.
  `
  ALTER TABLE revocations DROP CONSTRAINT IF EXISTS revocations_broker_fkey;
  ALTER TABLE revocation_events DROP CONSTRAINT IF EXISTS revocation_events_broker_fkey;
  ALTER TABLE broker_revisions DROP CONSTRAINT IF EXISTS broker_revisions_broker_fkey;
  CREATE INDEX revocations_expires ON revocations (expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX revocation_events_expires ON revocation_events (expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX credentials_broker_expires ON credentials (broker, expires_at);
  CREATE INDEX credentials_expires ON credentials (expires_at) WHERE expires_at IS NOT NULL;
  DROP INDEX credentials_broker;
  `,
  // The same as SQLite's fourth migration (sqlite-schema.ts says why).
  `
  CREATE TABLE client_id_owners (
    client_id TEXT PRIMARY KEY, source TEXT NOT NULL,
    account_id TEXT, issuer TEXT, subject TEXT,
    expires_at BIGINT, created_at BIGINT NOT NULL
  );
  CREATE INDEX client_id_owners_account ON client_id_owners (account_id) WHERE account_id IS NOT NULL;
  CREATE INDEX client_id_owners_subject ON client_id_owners (issuer, subject) WHERE issuer IS NOT NULL;
  INSERT INTO client_id_owners (client_id, source, account_id, created_at)
    SELECT ids.value,
      CASE WHEN COUNT(DISTINCT accounts.id) = 1 THEN 'configured' ELSE 'conflict' END,
      CASE WHEN COUNT(DISTINCT accounts.id) = 1 THEN MIN(accounts.id) END,
      MIN(accounts.created_at)
    FROM accounts, jsonb_array_elements_text(accounts.client_ids) AS ids (value) GROUP BY ids.value;
  INSERT INTO client_id_owners (client_id, source, account_id, expires_at, created_at)
    SELECT lease.value ->> 'clientId', 'lease', oidc_records.id, oidc_records.expires_at, EXTRACT(EPOCH FROM now())::BIGINT
    FROM oidc_records, jsonb_each(oidc_records.payload -> 'grants') AS lease
    WHERE oidc_records.model = 'ClientIdLease' AND lease.value ->> 'clientId' <> lease.value ->> 'base'
    ON CONFLICT (client_id) DO NOTHING;

  CREATE TABLE account_cutoffs (
    account_id TEXT PRIMARY KEY, not_before BIGINT NOT NULL, revision BIGINT NOT NULL UNIQUE
  );
  CREATE INDEX credentials_issued_by ON credentials (issued_by);
  `,
  // OAuth clients registered at the IdP (the built-in CLI and admin clients are not stored).
  `CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY, name TEXT NOT NULL, application_type TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL, secret_hash TEXT,
    redirect_uris JSONB NOT NULL, post_logout_redirect_uris JSONB NOT NULL, grant_types JSONB NOT NULL, scopes JSONB NOT NULL,
    id_token_signed_response_alg TEXT,
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL
  );`,
  // The same as SQLite's sixth migration (sqlite-schema.ts says why).
  `
  ALTER TABLE brokers ADD COLUMN client_id_mode TEXT NOT NULL DEFAULT 'claim',
    ADD COLUMN acl_templates JSONB NOT NULL DEFAULT '[]',
    ADD COLUMN max_lifetime BIGINT,
    ADD COLUMN rate_limit_requests BIGINT,
    ADD COLUMN rate_limit_window BIGINT,
    ADD COLUMN profile TEXT NOT NULL DEFAULT 'default',
    ADD COLUMN allowed_issuers JSONB NOT NULL DEFAULT '[]',
    ADD COLUMN alg TEXT NOT NULL DEFAULT 'EdDSA',
    ADD COLUMN resource_server_id TEXT,
    ADD COLUMN feed_credential_sha256 TEXT,
    ADD COLUMN feed_credential_issued_at BIGINT;
  UPDATE brokers SET
    client_id_mode = COALESCE(p.payload ->> 'clientIdMode', brokers.client_id_mode),
    acl_templates = COALESCE(p.payload -> 'aclTemplates', brokers.acl_templates),
    max_lifetime = (p.payload ->> 'maxLifetime')::BIGINT,
    rate_limit_requests = (p.payload -> 'rateLimit' ->> 'requests')::BIGINT,
    rate_limit_window = (p.payload -> 'rateLimit' ->> 'windowSeconds')::BIGINT,
    profile = COALESCE(p.payload ->> 'profile', brokers.profile),
    allowed_issuers = COALESCE(p.payload -> 'allowedIssuers', brokers.allowed_issuers),
    alg = COALESCE(p.payload ->> 'alg', brokers.alg),
    resource_server_id = p.payload ->> 'resourceServerId'
  FROM oidc_records AS p WHERE p.model = 'MqttOidcBrokerPolicy' AND p.id = brokers.id;
  UPDATE brokers SET
    feed_credential_sha256 = f.payload ->> 'sha256',
    feed_credential_issued_at = (f.payload ->> 'issuedAt')::BIGINT
  FROM oidc_records AS f
  WHERE f.model = 'MqttOidcFeedCredential' AND f.id = brokers.id AND (f.payload ->> 'brokerCreatedAt')::BIGINT = brokers.created_at;

  ALTER TABLE signing_keys ADD COLUMN last_token_expires_at BIGINT,
    ADD COLUMN unexpiring_tokens BOOLEAN NOT NULL DEFAULT FALSE;
  UPDATE signing_keys SET
    last_token_expires_at = (u.payload ->> 'lastExp')::BIGINT,
    unexpiring_tokens = COALESCE(jsonb_typeof(u.payload -> 'lastExp') = 'null', FALSE)
  FROM oidc_records AS u WHERE u.model = 'MqttOidcKeyUsage' AND u.id = signing_keys.kid;

  CREATE TABLE client_id_leases (
    grant_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, client_id TEXT NOT NULL, base TEXT NOT NULL, expires_at BIGINT
  );
  CREATE INDEX client_id_leases_account ON client_id_leases (account_id);
  CREATE INDEX client_id_leases_expires ON client_id_leases (expires_at) WHERE expires_at IS NOT NULL;
  INSERT INTO client_id_leases (grant_id, account_id, client_id, base, expires_at)
    SELECT lease.key, r.id, lease.value ->> 'clientId', lease.value ->> 'base', r.expires_at
    FROM oidc_records AS r, jsonb_each(r.payload -> 'grants') AS lease
    WHERE r.model = 'ClientIdLease' AND lease.value ->> 'clientId' IS NOT NULL AND lease.value ->> 'base' IS NOT NULL
    ON CONFLICT (grant_id) DO NOTHING;

  DELETE FROM oidc_records WHERE model IN ('MqttOidcBrokerPolicy', 'MqttOidcFeedCredential', 'MqttOidcKeyUsage', 'ClientIdLease');
  `,
  // Live MQTT sessions as broker nodes report them (the console's view; rows come and go with
  // connections, so no foreign key: a deleted broker's nodes simply stop reporting and are pruned),
  // and an index to list a broker's credentials newest first.
  `
  CREATE TABLE session_nodes (
    broker TEXT NOT NULL, node TEXT NOT NULL, seq BIGINT NOT NULL, reported_at BIGINT NOT NULL, sessions BIGINT NOT NULL,
    PRIMARY KEY (broker, node)
  );
  CREATE INDEX session_nodes_reported ON session_nodes (reported_at);
  CREATE TABLE broker_sessions (
    broker TEXT NOT NULL, node TEXT NOT NULL, connection TEXT NOT NULL,
    client_id TEXT NOT NULL, username TEXT, jti TEXT NOT NULL,
    connected_at BIGINT NOT NULL, expires_at BIGINT, remote_address TEXT,
    PRIMARY KEY (broker, node, connection)
  );
  CREATE INDEX broker_sessions_connected ON broker_sessions (broker, connected_at);
  CREATE INDEX broker_sessions_client_id ON broker_sessions (broker, client_id);
  CREATE INDEX broker_sessions_jti ON broker_sessions (broker, jti);
  CREATE TABLE session_revisions (broker TEXT PRIMARY KEY, revision BIGINT NOT NULL);
  CREATE INDEX credentials_broker_issued ON credentials (broker, issued_at, jti COLLATE "C");
  `,
]
