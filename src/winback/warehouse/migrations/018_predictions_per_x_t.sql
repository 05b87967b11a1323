-- Issue 14: a snapshot's model outputs per unique (x, T) instead of per unique (x, t_x, T). A member's expected
-- purchases are if_t(x, T) x P(alive | x, t_x, T), and P(alive) has a closed form the member_snapshot view
-- computes in SQL from the fit's parameters (snapshot_runs.settings["snapshot"]["alive"]); (x, T) pairs are a
-- small fraction of (x, t_x, T) triples, so an extra snapshot date stores far less (winback.lifecycle.modelling).
-- Snapshots built before this migration keep their rows in snapshot_predictions, untouched, and their view
-- branch keeps reading them (settings without "alive"): nothing stored changes, so nothing can be lost.
CREATE TABLE snapshot_predictions_xt (
    as_of  DATE NOT NULL,
    x      INTEGER NOT NULL,
    "T"    INTEGER NOT NULL,
    if_90  DOUBLE,
    if_365 DOUBLE
);
