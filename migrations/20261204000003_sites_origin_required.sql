-- A site may count only hits that come with its own page: a Referer or
-- Origin naming one of its hosts. Without it, a script that sends neither
-- (and rotates its User-Agent) makes a new visitor with every request.
ALTER TABLE sites ADD COLUMN origin_required boolean NOT NULL DEFAULT false;
