-- Live SIEM sinks (squadron-siem): the last audit seq each sink has delivered and had
-- acknowledged, so an outage or a restart resumes where delivery stopped. One row per
-- sink name; no row means nothing delivered yet (cursor 0).
CREATE TABLE sink_cursors (
    sink        TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL CHECK (seq >= 0),
    updated_at  BIGINT NOT NULL
);
