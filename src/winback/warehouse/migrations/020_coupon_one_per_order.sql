-- One coupon per order, kept by the database: a unique index on the order a coupon was redeemed on (NULL for an
-- unredeemed coupon; DuckDB lets any number of rows be NULL). The redemption rule already refused a second
-- coupon on an order, but on each writer's own snapshot: two writers redeeming two codes on one order at the same
-- moment could both commit. Now the second one's UPDATE (or COMMIT) is a constraint violation, and the
-- redemption is decided again on a fresh snapshot ("order … already used coupon …"). A warehouse that already
-- holds two coupons on one order cannot take the index: the migration then fails, naming the duplicate key;
-- void or un-redeem one of them by hand (the audit log says which till redeemed each) and start again.
CREATE UNIQUE INDEX coupons_redeemed_order ON coupons (redeemed_order_id);
