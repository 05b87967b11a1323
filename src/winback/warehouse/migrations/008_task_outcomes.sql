-- Guide task outcomes (docs/outreach.md, "Guide tasks and outcomes"): what a guide recorded for a task, who
-- and when, the history of every recorded outcome, the escalation of overdue tasks to the store manager, and
-- the per-store invitation / visit / deal targets of a campaign.
--
-- outcome ∈ contacted | invited | visited | purchased | unreachable | declined. A task's outcome is the furthest
-- funnel stage recorded (unreachable < contacted = declined < invited < visited < purchased); unreachable marks
-- the task failed, every other outcome marks it done.
-- 007 added tasks.note, outcome_at, escalated_at, escalated_to (and exported_at, touch_key); 008 adds who recorded
-- the outcome and from where. completed_at = when it happened (the sheet's date), outcome_at = when it was stored.
ALTER TABLE tasks ADD COLUMN outcome_by VARCHAR;             -- who recorded the outcome (a name, or a guide id)
ALTER TABLE tasks ADD COLUMN outcome_source VARCHAR;         -- cli | import:<file name>

-- Every outcome recorded for a task, once: recording the same outcome again (a re-imported sheet) adds nothing.
CREATE TABLE task_outcomes (
    task_id     VARCHAR NOT NULL,
    outcome     VARCHAR NOT NULL,
    note        VARCHAR,
    recorded_by VARCHAR,
    recorded_at TIMESTAMP NOT NULL,                          -- when it happened (the sheet's date, else now)
    source      VARCHAR NOT NULL,                            -- cli | import:<file name>
    entered_at  TIMESTAMP NOT NULL,                          -- when winback stored it
    PRIMARY KEY (task_id, outcome)
);

-- Per campaign and store: the invitation / visit / deal targets (metric ∈ invited | visited | purchased).
-- Only targets HQ set are stored (`winback tasks targets C --store S --set invited=40`); the defaults are
-- computed from the scenario's KPIs and the campaign's frozen plan each time (outreach/tasks.py).
CREATE TABLE task_targets (
    campaign_id VARCHAR NOT NULL,
    store_id    VARCHAR NOT NULL,                            -- '' = members without a store
    metric      VARCHAR NOT NULL,
    target      INTEGER NOT NULL,
    source      VARCHAR NOT NULL,                            -- set
    set_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (campaign_id, store_id, metric)
);

-- One row per journey and day `winback run` did (docs/outreach.md, "Journeys and the daily run"): running the same
-- day again finds its row and creates nothing; a day after skipped days covers them once (covers_from..day).
CREATE TABLE journey_runs (
    journey_id  VARCHAR NOT NULL,
    day         DATE NOT NULL,
    covers_from DATE NOT NULL,
    campaign_id VARCHAR,                                     -- NULL when nobody was due
    members     INTEGER NOT NULL,
    tasks       INTEGER NOT NULL,
    touches     INTEGER NOT NULL,
    note        VARCHAR,                                     -- why nothing was launched, or why it paused
    ran_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (journey_id, day)
);
