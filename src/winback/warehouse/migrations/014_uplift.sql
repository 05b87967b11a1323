-- Uplift targeting (issue 13): models learned from the brand's own control groups, the members a targeted
-- campaign kept or dropped and why, and the demo simulator's per-member truth.

-- One fitted uplift model: where its training rows came from, its honest (held-out) validation, the model itself.
CREATE TABLE uplift_models (
    model_id     VARCHAR PRIMARY KEY,        -- U0001, U0002 …
    created_at   TIMESTAMP NOT NULL,
    source       JSON NOT NULL,              -- {"campaigns": [...]} or {"file": ..., "arm": ..., ...}
    learner      VARCHAR NOT NULL,           -- t | x
    outcome      VARCHAR NOT NULL,           -- revenue | responded | margin | a file's column
    outcome_kind VARCHAR NOT NULL,           -- binary | continuous
    control      VARCHAR NOT NULL,           -- the control arm's label
    arms         JSON NOT NULL,              -- the treated arms' labels
    features     JSON NOT NULL,              -- FeatureSpec.to_dict: names and text categories
    rows_train   BIGINT NOT NULL,
    rows_valid   BIGINT NOT NULL,
    validation   JSON NOT NULL,              -- per arm: Qini, uplift@k, deciles (models/uplift_metrics.evaluate)
    fit_seconds  DOUBLE,
    model        BLOB NOT NULL               -- the fitted learner (pickle, written and read by winback only)
);

-- A campaign created with --target uplift: the model, the rule and the preview's figures.
CREATE TABLE uplift_campaign_targets (
    campaign_id  VARCHAR PRIMARY KEY,
    model_id     VARCHAR,                    -- NULL: no history, ranked by value at stake
    method       VARCHAR NOT NULL,           -- uplift | value_at_stake
    budget       DOUBLE,
    top_k        BIGINT,
    summary      JSON NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

-- Every audience member of such a campaign: kept (target, explore) or dropped (sure_thing, no_response,
-- below_cost, over_budget), with the prediction it was decided on. Launch keeps the kept ones only.
CREATE TABLE uplift_campaign_members (
    campaign_id         VARCHAR NOT NULL,
    member_id           VARCHAR NOT NULL,
    decision            VARCHAR NOT NULL,
    predicted_uplift    DOUBLE,              -- in the model's outcome (revenue, probability …)
    expected_increment  DOUBLE,              -- expected incremental margin minus the touch's cost
    PRIMARY KEY (campaign_id, member_id)
);

-- `winback demo respond`: each simulated member's own expected effect (if treated with offer_arm's offer), so
-- tests can rank by the oracle.
CREATE TABLE demo_member_truth (
    campaign_id            VARCHAR NOT NULL,
    member_id              VARCHAR NOT NULL,
    arm                    VARCHAR NOT NULL,
    offer_arm              VARCHAR NOT NULL,
    p_untreated            DOUBLE NOT NULL,
    p_treated              DOUBLE NOT NULL,
    mean_amount            DOUBLE NOT NULL,
    incremental_revenue    DOUBLE NOT NULL,
    incremental_responders DOUBLE NOT NULL,
    PRIMARY KEY (campaign_id, member_id)
);
