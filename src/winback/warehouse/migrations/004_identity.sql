-- Identity resolution (winback dedupe): model runs, scored pairs, clusters, and a reversible merge log.
-- `dedupe` (without --apply) writes a run, its pairs at or above the reporting floor and its clusters;
-- `quality` reads the latest run's clusters for "suspected duplicates". `--apply` writes a merge and logs every
-- value it changes so that `--undo` restores members.merged_into and orders.member_id exactly.

CREATE SEQUENCE IF NOT EXISTS identity_run_seq START 1;
CREATE SEQUENCE IF NOT EXISTS identity_merge_seq START 1;

CREATE TABLE identity_runs (
    run_id         INTEGER PRIMARY KEY,
    created_at     TIMESTAMP NOT NULL,
    threshold      DOUBLE NOT NULL,           -- match probability at or above which two records are one person
    seed           INTEGER NOT NULL,          -- seed of the u-sampling (the run is reproducible)
    members        BIGINT NOT NULL,           -- records compared (members not merged away)
    pairs          BIGINT NOT NULL,           -- scored pairs stored in identity_pairs
    clusters       BIGINT NOT NULL,           -- clusters with two or more records at the threshold
    duplicates     BIGINT NOT NULL,           -- records in those clusters that are not the survivor
    seconds        DOUBLE,
    model          JSON                       -- trained splink settings (m, u, prior)
);

CREATE TABLE identity_pairs (
    run_id            INTEGER NOT NULL,
    member_id_l       VARCHAR NOT NULL,
    member_id_r       VARCHAR NOT NULL,
    match_probability DOUBLE NOT NULL,
    match_weight      DOUBLE NOT NULL,
    match_key         VARCHAR                 -- which blocking rule produced the pair
);

CREATE TABLE identity_clusters (
    run_id      INTEGER NOT NULL,
    cluster_id  VARCHAR NOT NULL,             -- the survivor's member_id
    member_id   VARCHAR NOT NULL,
    is_survivor BOOLEAN NOT NULL
);

CREATE TABLE identity_merges (
    merge_id   INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    undone_at  TIMESTAMP,
    members    BIGINT NOT NULL,               -- member rows whose merged_into changed
    orders     BIGINT NOT NULL                -- order rows whose member_id changed
);

CREATE TABLE identity_merge_members (
    merge_id        INTEGER NOT NULL,
    member_id       VARCHAR NOT NULL,
    old_merged_into VARCHAR,
    new_merged_into VARCHAR NOT NULL
);

CREATE TABLE identity_merge_orders (
    merge_id         INTEGER NOT NULL,
    order_id         VARCHAR NOT NULL,
    source_member_id VARCHAR,
    old_member_id    VARCHAR NOT NULL,
    new_member_id    VARCHAR NOT NULL
);
