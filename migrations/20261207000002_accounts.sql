-- Accounts: the people who sign in, their sessions, the one-time codes
-- that let the first of them set the instance up, and the sign-in throttle.
-- Sessions and codes are kept as SHA-256 digests of the cookie's and the
-- log's values, so that a copy of the database signs nobody in.
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    -- An Argon2id PHC string.
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    is_admin boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
-- One account per address, whatever its case.
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE sessions (
    session_digest bytea PRIMARY KEY CHECK (length(session_digest) = 32),
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    -- "Firefox on Linux": the account page's list, to tell sessions apart.
    client text NOT NULL DEFAULT '' CHECK (length(client) <= 100)
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE setup_codes (
    code_digest bytea PRIMARY KEY CHECK (length(code_digest) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Sign-in attempts per address (a digest of it: the addresses typed at the
-- sign-in form are not kept) in the current window.
CREATE TABLE login_throttle (
    email_digest bytea PRIMARY KEY CHECK (length(email_digest) = 32),
    window_start timestamptz NOT NULL,
    attempts integer NOT NULL CHECK (attempts > 0)
);
