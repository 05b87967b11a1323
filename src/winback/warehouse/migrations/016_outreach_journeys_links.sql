-- Outreach closes the loop (issue 10, docs/outreach.md): the everyday journeys' daily audiences, the member
-- profile history that tier upgrades are detected from, and per-touch short links with their clicks.

-- Who an everyday journey (birthday, member day, festival, season, tier upgrade, points expiry) enrols on a run
-- day, and for which occasion; the journey's scenario targets exactly these members (target.journey).
CREATE TABLE journey_audience (
    journey_id VARCHAR NOT NULL,
    day        DATE NOT NULL,                     -- the run day (journey_runs.day)
    member_id  VARCHAR NOT NULL,
    occasion   DATE,                              -- the birthday / festival / expiry date this touch announces
    detail     VARCHAR,                           -- lunar | festival id | season id | '金卡<-银卡' | points …
    PRIMARY KEY (journey_id, day, member_id)
);

-- The tracked profile fields as the last members import left them, and every change between imports.
CREATE TABLE member_profile_state (
    member_id VARCHAR PRIMARY KEY,
    tier      VARCHAR,
    points    DOUBLE,
    birthday  DATE,
    store_id  VARCHAR,
    guide_id  VARCHAR,
    import_id INTEGER,
    seen_at   TIMESTAMP NOT NULL
);

CREATE SEQUENCE IF NOT EXISTS profile_change_seq START 1;
CREATE TABLE member_profile_changes (
    change_id  BIGINT PRIMARY KEY DEFAULT nextval('profile_change_seq'),
    member_id  VARCHAR NOT NULL,
    field      VARCHAR NOT NULL,                  -- tier | points | birthday | store_id | guide_id
    old_value  VARCHAR,
    new_value  VARCHAR,
    import_id  INTEGER,                           -- the members import that brought the change
    changed_at TIMESTAMP NOT NULL
);

-- Members loaded before this migration: their current profile is the first state (no change recorded).
INSERT INTO member_profile_state
SELECT member_id, tier, points, birthday, store_id, guide_id, import_id, coalesce(updated_at, current_timestamp)
FROM members WHERE merged_into IS NULL;

-- One short link per touch that carries a link; the web console serves /s/{code} (until then: click import).
CREATE TABLE short_links (
    code            VARCHAR PRIMARY KEY,          -- base62 of a keyed hash of the idempotency key
    idempotency_key VARCHAR NOT NULL UNIQUE,      -- the touch
    campaign_id     VARCHAR,
    member_id       VARCHAR NOT NULL,
    target_url      VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

CREATE TABLE link_clicks (
    click_key  VARCHAR PRIMARY KEY,               -- sha256 of (code, time, client): a re-imported file adds nothing
    code       VARCHAR NOT NULL,
    clicked_at TIMESTAMP NOT NULL,
    client     VARCHAR,                           -- user agent / IP as the redirect log gave them
    source     VARCHAR NOT NULL,                  -- import | web
    file       VARCHAR,
    loaded_at  TIMESTAMP NOT NULL
);
