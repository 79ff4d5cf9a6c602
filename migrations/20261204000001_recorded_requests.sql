-- The requests whose visit is recorded, by the id the proxy gives each one
-- (nginx's $request_id, sent as X-Request-ID). nginx sends a request to the
-- next replica when the first fails, even one that had recorded the visit
-- before failing (a GET looks safe to repeat); the second replica then
-- finds the id here and counts nothing again. A retry comes within seconds:
-- the maintenance job deletes ids older than ten minutes, through the BRIN
-- index, which costs the write path next to nothing.
CREATE TABLE recorded_requests (
    request_id  bytea       PRIMARY KEY CHECK (octet_length(request_id) = 16),
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recorded_requests_recorded_at ON recorded_requests USING brin (recorded_at);
