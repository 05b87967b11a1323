-- What the console's pages read, summed once after each refresh (LifecycleService.refresh -> prepare): the first
-- page view after a refresh reads a few rows instead of 10M members' snapshot (docs/web.md, "Speed").
-- A snapshot-derived part is used while its snapshot has not been written again since (snapshot_runs.refreshed_at);
-- a part that reads members and orders (the quality figures, a report's purchases) while the warehouse's data
-- stamp (warehouse/stamp.py) is the one it was built under. Otherwise the page computes it live, as before.

-- Which parts of which snapshot date were built, when.
CREATE TABLE page_built (
    part     VARCHAR NOT NULL,                 -- segments | transitions | members
    as_of    DATE NOT NULL,
    built_at TIMESTAMP NOT NULL,
    PRIMARY KEY (part, as_of)
);

-- lifecycle segments [--by store|tier|channel|guide]: per scheme, grouping column ('' overall) and group.
CREATE TABLE page_segment_stats (
    as_of            DATE NOT NULL,
    scheme           VARCHAR NOT NULL,
    by_column        VARCHAR NOT NULL,         -- '' | store_id | tier | register_channel | guide_id
    grp              VARCHAR,
    segment          VARCHAR,
    members          BIGINT NOT NULL,
    avg_recency_days DOUBLE,
    monetary         DECIMAL(38, 2),
    avg_p_alive      DOUBLE
);

-- lifecycle transitions from the snapshot before as_of to as_of, per scheme.
CREATE TABLE page_transitions (
    date_from    DATE NOT NULL,
    as_of        DATE NOT NULL,
    scheme       VARCHAR NOT NULL,
    from_segment VARCHAR,
    to_segment   VARCHAR,
    members      BIGINT NOT NULL
);

-- The head of every scheme's member list (most valuable first), the snapshot's columns of the list.
CREATE TABLE page_member_head (
    as_of           DATE NOT NULL,
    scheme          VARCHAR NOT NULL,
    rank            INTEGER NOT NULL,
    member_id       VARCHAR NOT NULL,
    store_id        VARCHAR,
    guide_id        VARCHAR,
    tier            VARCHAR,
    segment         VARCHAR,
    recency_days    INTEGER,
    orders          INTEGER,
    monetary        DECIMAL(18, 2),
    cycle_days      DOUBLE,
    overdue_ratio   DOUBLE,
    p_alive         DOUBLE,
    clv             DOUBLE,
    rfm_code        VARCHAR,
    value_layer     VARCHAR,
    lifecycle_stage VARCHAR,
    last_purchase   DATE,
    PRIMARY KEY (as_of, scheme, rank)
);

-- The overview's data-quality block (the quality report's headline, member and contact counts) as JSON, built
-- under `stamp`.
CREATE TABLE overview_quality (
    stamp    VARCHAR NOT NULL,
    built_at TIMESTAMP NOT NULL,
    figures  VARCHAR NOT NULL
);

-- A campaign report's purchases in the response window per arm (arm NULL: every treated arm together): what
-- only orders decide, built under `stamp`; contacts, outcomes and redemptions are summed live.
CREATE TABLE report_order_sums (
    campaign_id VARCHAR NOT NULL,
    arm         VARCHAR,
    members     BIGINT NOT NULL,
    responders  BIGINT NOT NULL,
    revenue     DOUBLE NOT NULL,
    revenue_var DOUBLE,
    stamp       VARCHAR NOT NULL
);
