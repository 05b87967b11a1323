-- Coupons can be voided (one by one, or all unredeemed coupons of a campaign when it is closed); who voided a
-- coupon, when and why is kept on the coupon (docs/campaigns.md, "Coupons at the till").
ALTER TABLE coupons ADD COLUMN voided_at TIMESTAMP;
ALTER TABLE coupons ADD COLUMN voided_by VARCHAR;
ALTER TABLE coupons ADD COLUMN void_reason VARCHAR;

-- The demo's simulator writes a campaign's responses up to the brand's "now" and can be advanced later:
-- how far it has written.
ALTER TABLE campaign_truth ADD COLUMN simulated_until TIMESTAMP;

-- A warehouse made by `winback demo` says so here; every demo command that writes refuses a warehouse without
-- this row (unless --force), so synthetic orders never land in a real brand's data.
CREATE TABLE demo_marker (
    made_at TIMESTAMP NOT NULL,
    spec    JSON NOT NULL                    -- members, years, seed, start, end of the demo brand
);
