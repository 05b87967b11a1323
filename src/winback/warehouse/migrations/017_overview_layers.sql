-- The overview's worth-waking figures, summed once per snapshot date at refresh time (overview/store.py
-- build_overview), so the console's first overview after a refresh does not join 10M snapshot rows.

-- Per dormancy layer (seed_cn segment) at as_of: lifecycle/waking.py's definitions.
CREATE TABLE overview_layers (
    as_of                 DATE NOT NULL,
    segment               VARCHAR NOT NULL,
    members               BIGINT NOT NULL,
    worth_waking          BIGINT NOT NULL,
    reachable             BIGINT NOT NULL,          -- valid mobile, not opted out: when the overview was built
    value_at_stake        DOUBLE NOT NULL,
    past_monetary         DECIMAL(38, 2) NOT NULL,
    likely_alive          BIGINT NOT NULL,
    avg_p_alive           DOUBLE,
    expected_revenue_365d DOUBLE NOT NULL,
    PRIMARY KEY (as_of, segment)
);

-- The dormant members worth waking with the most at stake, in ranking order (rank 1 first).
CREATE TABLE overview_top (
    as_of          DATE NOT NULL,
    rank           INTEGER NOT NULL,
    member_id      VARCHAR NOT NULL,
    segment        VARCHAR,
    tier           VARCHAR,
    store_id       VARCHAR,
    orders         INTEGER,
    purchase_days  INTEGER,
    monetary       DECIMAL(18, 2),
    recency_days   INTEGER,
    overdue_ratio  DOUBLE,
    value_at_stake DOUBLE,
    p_alive        DOUBLE,
    clv            DOUBLE,
    PRIMARY KEY (as_of, rank)
);

-- Which snapshot dates have their overview built (a date without a row is computed on the fly).
CREATE TABLE overview_built (
    as_of    DATE PRIMARY KEY,
    built_at TIMESTAMP NOT NULL
);

-- Members per segment of every scheme at as_of (the overview's shares).
CREATE TABLE overview_segments (
    as_of   DATE NOT NULL,
    scheme  VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    members BIGINT NOT NULL,
    PRIMARY KEY (as_of, scheme, segment)
);
