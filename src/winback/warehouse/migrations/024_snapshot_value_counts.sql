-- Issue 14: the value counts behind a snapshot's quintile breakpoints (recency, orders, monetary of the members
-- who bought), kept for the newest snapshot date so that the next daily refresh brings them forward by the members
-- whose facts changed (a few thousand rows read and adjusted) instead of a pass over every member's facts
-- (winback.lifecycle.store_facts.carried_value_counts). A cache: run_at is the snapshot_runs.refreshed_at of the
-- refresh that wrote them (the same transaction); rows whose snapshot was written again since are not used, and a
-- refresh without usable rows counts from the facts as before. Nothing stored before is changed.
CREATE TABLE snapshot_value_counts (
    as_of  DATE NOT NULL,
    run_at TIMESTAMP NOT NULL,
    k      VARCHAR NOT NULL,                   -- r (recency days) | f (paid orders) | m (floor of monetary)
    v      DOUBLE NOT NULL,
    n      BIGINT NOT NULL
);
