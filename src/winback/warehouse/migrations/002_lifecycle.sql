-- Lifecycle snapshots (docs/lifecycle.md, docs/CONTRACTS.md "Lifecycle snapshot").
-- One snapshot per as-of date: a refresh deletes and rewrites the rows of its own as_of only.

CREATE TABLE member_snapshot (
    as_of                  DATE NOT NULL,
    member_id              VARCHAR NOT NULL,
    store_id               VARCHAR,
    guide_id               VARCHAR,
    tier                   VARCHAR,
    register_date          DATE,
    register_channel       VARCHAR,
    first_purchase         DATE,            -- first day with a paid order before as_of (NULL = never purchased)
    last_purchase          DATE,
    orders                 INTEGER NOT NULL, -- paid orders
    purchase_days          INTEGER NOT NULL, -- distinct days with a paid order
    frequency              INTEGER,         -- repeat purchase days = purchase_days - 1 (BG/NBD x)
    monetary               DECIMAL(18, 2) NOT NULL, -- sum(amount) over paid + refunded orders
    aov                    DOUBLE,          -- monetary / orders
    tenure_days            INTEGER,         -- as_of - min(register_date, first_purchase)
    recency_days           INTEGER,         -- as_of - last_purchase (>= 1; NULL = never purchased)
    first_purchase_days    INTEGER,         -- as_of - first_purchase (BG/NBD T, in days)
    span_days              INTEGER,         -- last_purchase - first_purchase (BG/NBD t_x, in days)
    cycle_days             DOUBLE,          -- personal purchase cycle, shrunk toward the cohort prior
    cycle_prior_days       DOUBLE,          -- the cohort prior used
    cycle_prior_source     VARCHAR,         -- cohort | tier | all | default
    cycle_weight           DOUBLE,          -- n / (n + k): weight of the member's own intervals
    overdue_ratio          DOUBLE,          -- recency_days / cycle_days
    p_alive                DOUBLE,
    expected_purchases_90d DOUBLE,
    expected_value         DOUBLE,          -- Gamma-Gamma conditional expected order value
    clv                    DOUBLE,          -- expected purchases in 365 days x expected value (undiscounted)
    r_score                INTEGER,         -- 1-5 by quintile (NULL = never purchased)
    f_score                INTEGER,
    m_score                INTEGER,
    rfm_code               VARCHAR,         -- e.g. '545'
    value_layer            VARCHAR,         -- head | waist | tail (the `value` scheme)
    lifecycle_stage        VARCHAR          -- the `lifecycle` scheme
);

CREATE TABLE member_segments (
    as_of     DATE NOT NULL,
    scheme    VARCHAR NOT NULL,
    member_id VARCHAR NOT NULL,
    segment   VARCHAR NOT NULL
);

CREATE TABLE model_fits (
    as_of      DATE NOT NULL,
    model      VARCHAR NOT NULL,              -- bgnbd | gamma_gamma
    params     JSON NOT NULL,                 -- name -> value
    time_unit  VARCHAR,                       -- weeks | days | NULL (not time based)
    loglik     DOUBLE,
    converged  BOOLEAN,
    n          BIGINT,                        -- members the fit describes
    fitted_at  TIMESTAMP NOT NULL
);

-- What each refresh used: the rules (schemes) and settings, so every segment can be explained later.
CREATE TABLE snapshot_runs (
    as_of        DATE NOT NULL,
    engine       VARCHAR NOT NULL,
    members      BIGINT NOT NULL,
    rules        JSON NOT NULL,                -- scheme -> ordered rules with labels and predicates
    settings     JSON NOT NULL,                -- cycle shrinkage k, min cohort size, breakpoints …
    seconds      DOUBLE,
    refreshed_at TIMESTAMP NOT NULL
);
