-- Invitations to a site: a link (its token kept as a SHA-256 digest) that
-- makes whoever opens it, signed in or signing up, a member of the site
-- with the role it names. Used once, and only until it expires.
CREATE TABLE invitations (
    token_digest bytea PRIMARY KEY CHECK (length(token_digest) = 32),
    site_id integer NOT NULL REFERENCES sites ON DELETE CASCADE,
    role site_role NOT NULL,
    invited_by bigint REFERENCES users ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- Set when it is used (who used it is forgotten with their account).
    accepted_at timestamptz,
    accepted_by bigint REFERENCES users ON DELETE SET NULL
);
CREATE INDEX invitations_site ON invitations (site_id);
