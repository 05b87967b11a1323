-- Issue 14: history without copies. A refresh stores the member facts that changed (valid-from / valid-to)
-- and a few small tables per snapshot date, instead of a full copy of every member per date; member_snapshot
-- becomes a view that rebuilds each date from them (winback.lifecycle.snapshot_view, docs/lifecycle.md).
--
-- member_facts: a member's facts (profile and order totals) at every snapshot date d with
-- valid_from <= d < valid_to (valid_to NULL: current). Dates a member is absent from have no covering row.
CREATE TABLE member_facts (
    member_id        VARCHAR NOT NULL,
    valid_from       DATE NOT NULL,
    valid_to         DATE,
    store_id         VARCHAR,
    guide_id         VARCHAR,
    tier             VARCHAR,
    register_date    DATE,
    register_channel VARCHAR,
    first_purchase   DATE,
    last_purchase    DATE,
    orders           INTEGER NOT NULL,
    purchase_days    INTEGER NOT NULL,
    monetary         DECIMAL(18, 2) NOT NULL
);
-- the cycle priors of one snapshot: one row per (tier, home store) present in it
CREATE TABLE snapshot_priors (
    as_of        DATE NOT NULL,
    tier_key     VARCHAR NOT NULL,
    store_key    VARCHAR NOT NULL,
    prior_days   DOUBLE,
    prior_source VARCHAR
);
-- the purchase model's outputs per unique history (x, t_x, T in days) of one snapshot
CREATE TABLE snapshot_predictions (
    as_of   DATE NOT NULL,
    x       INTEGER NOT NULL,
    t_x     INTEGER NOT NULL,
    "T"     INTEGER NOT NULL,
    p_alive DOUBLE,
    exp_90  DOUBLE,
    exp_365 DOUBLE
);
-- Snapshots built before this migration keep their rows, unchanged, under a new name; the view reads them as
-- they are (nothing is recomputed, so nothing can change). After the last pending migration the runner
-- recreates the view from snapshot_runs and checks that it gives exactly the stored rows (warehouse/migrate.py).
ALTER TABLE member_snapshot RENAME TO member_snapshot_stored;
CREATE VIEW member_snapshot AS SELECT * FROM member_snapshot_stored;
