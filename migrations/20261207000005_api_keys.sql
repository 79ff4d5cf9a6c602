-- A person's API keys, for /api/sites*: each named, kept as the SHA-256
-- digest of the key (shown once, when it is made), with when it was last
-- used. Deleting the row revokes the key on every replica at once: keys are
-- looked up on every request, never cached.
CREATE TABLE api_keys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    key_digest bytea NOT NULL UNIQUE CHECK (length(key_digest) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX api_keys_user ON api_keys (user_id);
