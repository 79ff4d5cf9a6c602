-- Who may do what with a site: its owners manage it (settings, links),
-- viewers read its dashboards. The instance's admins may do everything
-- with every site without a row here.
CREATE TYPE site_role AS ENUM ('owner', 'viewer');

CREATE TABLE site_members (
    site_id integer NOT NULL REFERENCES sites ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    role site_role NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, user_id)
);
CREATE INDEX site_members_user ON site_members (user_id);
