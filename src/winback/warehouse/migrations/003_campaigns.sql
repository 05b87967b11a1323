-- Campaigns, assignment, coupons, guide tasks and the contact ledger (docs/campaigns.md).
-- A campaign is a draft until launched; launch freezes the audience in campaign_members (arm per member),
-- issues coupons, creates one task per member for their guide and queues touches with idempotency keys.

CREATE TABLE campaigns (
    campaign_id       VARCHAR PRIMARY KEY,       -- C0001, C0002 …
    name              VARCHAR NOT NULL,
    scenario          VARCHAR NOT NULL,
    status            VARCHAR NOT NULL,          -- draft | running | closed
    as_of             DATE,                      -- member_snapshot used for the audience
    stores            JSON,                      -- list of store ids, NULL = all
    holdout           DOUBLE NOT NULL,
    window_days       INTEGER NOT NULL,          -- responders buy within this many days after launch
    cost_per_contact  DOUBLE NOT NULL,
    margin            DOUBLE NOT NULL,
    channel           VARCHAR NOT NULL,
    coupon_valid_days INTEGER NOT NULL,
    preview           JSON,                      -- audience sizes, exclusions, expectations, MDE at creation
    created_at        TIMESTAMP NOT NULL,
    launched_at       TIMESTAMP,
    closed_at         TIMESTAMP
);

CREATE TABLE campaign_variants (
    campaign_id     VARCHAR NOT NULL,
    variant_key     VARCHAR NOT NULL,            -- A, B … (the control arm is 'control' and has no row)
    offer_kind      VARCHAR NOT NULL,            -- voucher | discount | gift_pack | points | none
    offer_value     DOUBLE NOT NULL,
    offer_threshold DOUBLE NOT NULL,
    share           DOUBLE NOT NULL,
    PRIMARY KEY (campaign_id, variant_key)
);

CREATE TABLE campaign_members (
    campaign_id VARCHAR NOT NULL,
    member_id   VARCHAR NOT NULL,
    arm         VARCHAR NOT NULL,                -- 'control' or a variant key
    store_id    VARCHAR,
    guide_id    VARCHAR,
    segment     VARCHAR,                         -- seed_cn segment at launch
    stratum     VARCHAR NOT NULL,                -- store × segment used for balancing
    monetary    DOUBLE,
    PRIMARY KEY (campaign_id, member_id)
);

CREATE TABLE coupons (
    code              VARCHAR PRIMARY KEY,       -- 12 symbols, Luhn mod 32 check (campaigns/coupons.py)
    campaign_id       VARCHAR NOT NULL,
    member_id         VARCHAR NOT NULL,
    variant_key       VARCHAR NOT NULL,
    offer_kind        VARCHAR NOT NULL,
    offer_value       DOUBLE NOT NULL,
    offer_threshold   DOUBLE NOT NULL,
    issued_at         TIMESTAMP NOT NULL,
    expires_at        TIMESTAMP NOT NULL,
    redeemed_at       TIMESTAMP,
    redeemed_order_id VARCHAR,
    redeemed_store_id VARCHAR,
    discount          DOUBLE
);

CREATE TABLE tasks (
    task_id      VARCHAR PRIMARY KEY,            -- campaign_id:member_id
    campaign_id  VARCHAR NOT NULL,
    member_id    VARCHAR NOT NULL,
    guide_id     VARCHAR,                        -- NULL = no guide: the store manager assigns one
    store_id     VARCHAR,
    kind         VARCHAR NOT NULL,               -- call | message | visit_invite
    script       VARCHAR,
    coupon_code  VARCHAR,
    priority     INTEGER,                        -- 1 = most valuable member of the guide's list
    status       VARCHAR NOT NULL,               -- open | done | failed | skipped
    outcome      VARCHAR,                        -- invited | visited | purchased | unreachable | refused …
    due_at       TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);

-- The contact ledger: every outbound touch, queued once (idempotency key = campaign:member:channel:step).
CREATE TABLE touches (
    idempotency_key VARCHAR PRIMARY KEY,
    campaign_id     VARCHAR,
    member_id       VARCHAR NOT NULL,
    channel         VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,            -- queued | sent | failed | suppressed
    payload         JSON,
    queued_at       TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);

-- What `winback demo respond` simulated (the truth the report must recover).
CREATE TABLE campaign_truth (
    campaign_id           VARCHAR NOT NULL,
    simulated_at          TIMESTAMP NOT NULL,
    seed                  BIGINT,
    uplift                JSON,                  -- the uplift settings used
    true_incremental      JSON                   -- arm -> expected incremental revenue (total) and responders
);
