-- Squadron control-plane storage, Postgres flavour (see migrations/sqlite for the twin).
-- Times: unix seconds (BIGINT) for nodes/squads/admin; audit times are the RFC 3339
-- strings the events carry, stored verbatim because they are part of the hashed form.

CREATE TABLE nodes (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    token_hash  TEXT NOT NULL,              -- SHA-256 hex of the token, never the token
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT,
    version     TEXT,
    host        TEXT,
    revoked     BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_at  BIGINT
);

CREATE TABLE squads (
    squad        TEXT PRIMARY KEY,
    deployed_at  BIGINT NOT NULL
);

CREATE TABLE squad_links (
    squad      TEXT NOT NULL REFERENCES squads (squad) ON DELETE CASCADE,
    node_id    TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    linked_at  BIGINT NOT NULL,
    PRIMARY KEY (squad, node_id)
);
CREATE INDEX squad_links_node ON squad_links (node_id);

-- One row: the hash of the admin token, replaced on rotation.
CREATE TABLE admin (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    token_hash  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- The hash-chained audit trail. `seq` is assigned by the store under an advisory lock and
-- is gap-free (no sequence object: those leave gaps on rollback); `args` is TEXT, not
-- JSONB, because its exact bytes are hashed and JSONB would normalise them.
CREATE TABLE audit_events (
    seq            BIGINT PRIMARY KEY CHECK (seq >= 1),
    id             TEXT NOT NULL UNIQUE,
    ts             TEXT NOT NULL,
    end_ts         TEXT,
    duration_ms    BIGINT,
    kind           TEXT NOT NULL,
    actor          TEXT NOT NULL,
    actor_name     TEXT,
    platform       TEXT NOT NULL,
    channel        TEXT,
    conversation   TEXT,
    context        TEXT,
    squad          TEXT,
    agent          TEXT,
    node           TEXT,
    tool           TEXT,
    command        TEXT,
    args           TEXT,
    status         TEXT NOT NULL,
    exit_code      INTEGER,
    output         TEXT,
    output_bytes   BIGINT,
    output_sha256  TEXT,
    reason         TEXT,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_events_ts ON audit_events (ts);
CREATE INDEX audit_events_node ON audit_events (node, seq);
CREATE INDEX audit_events_squad ON audit_events (squad, seq);
CREATE INDEX audit_events_status ON audit_events (status, seq);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);

-- Chain checkpoints (sequence number and head hash), sent to sinks so a truncated tail is
-- detectable, and kept at a retention cut so the remaining chain still verifies.
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY CHECK (seq >= 1),
    head_hash  TEXT NOT NULL,
    ts         TEXT NOT NULL
);

-- Defence in depth: a new event must follow the head (events, else the last checkpoint
-- after a full retention cut, else genesis), and events are never updated in place.
-- Retention deletes a prefix, so DELETE stays allowed. For more, revoke UPDATE/DELETE on
-- audit_events from the application role.
CREATE FUNCTION audit_events_contiguous() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <> COALESCE((SELECT MAX(seq) FROM audit_events),
                           (SELECT MAX(seq) FROM audit_checkpoints), 0) + 1 THEN
        RAISE EXCEPTION 'audit seq must follow the head of the chain';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_events_contiguous BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_contiguous();

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
