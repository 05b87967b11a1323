-- One coupon per order, kept by the database in a table of its own: `coupon_orders` holds, for every redeemed
-- coupon, the order it was redeemed on (its primary key) and the code. Migration 020 kept it with a unique index on
-- coupons.redeemed_order_id; but DuckDB writes an UPDATE of an indexed column as a delete and an insert of the
-- whole coupon row, so each till round's UPDATE of its winners cost ~3x what it costs without the index (8 ms
-- against 3 ms for 25 winners at a 2M-member brand). Now the round updates the coupons (no indexed column) and
-- inserts its winners' orders here in the same transaction: a second writer putting another code on one of those
-- orders meets the primary key (a constraint violation, or a conflict at its COMMIT) and is decided again on a
-- fresh snapshot, as before. Every redeemed coupon is copied in (020 guaranteed one per order); nothing else
-- changes.
CREATE TABLE coupon_orders (
    order_id VARCHAR PRIMARY KEY,
    code     VARCHAR NOT NULL
);
INSERT INTO coupon_orders SELECT redeemed_order_id, code FROM coupons WHERE redeemed_order_id IS NOT NULL;
DROP INDEX coupons_redeemed_order;
