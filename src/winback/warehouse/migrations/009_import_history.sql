-- Import (issue 9, item 8): what re-imports change, and what a file said twice.
--
-- order_status_changes: an order's status changed by a later import (paid -> cancelled, unpaid -> paid, …):
-- what changed (old and new status and amount), when, and which import did it. A re-import that changes nothing
-- records nothing. A refund of an order already loaded as paid is its own refund row (as before) and is recorded
-- here as paid -> refunded, with the refund's (negative) amount as new_amount.
CREATE TABLE order_status_changes (
    order_id   VARCHAR NOT NULL,
    old_status VARCHAR NOT NULL,              -- paid | unpaid | cancelled
    new_status VARCHAR NOT NULL,              -- paid | unpaid | cancelled | refunded
    old_amount DECIMAL(18, 2),
    new_amount DECIMAL(18, 2),
    changed_at TIMESTAMP NOT NULL,            -- when the import ran
    import_id  INTEGER NOT NULL               -- the import that changed it (imports.import_id)
);

-- order_items.occurrence: identical lines of one order in one file (a real double scan) are all kept; the first
-- is occurrence 1, the next identical one 2, … (identical = same order, direction, SKU, category, quantity and
-- amount). NULL for lines loaded before this migration and for the `order-items` kind.
ALTER TABLE order_items ADD COLUMN occurrence INTEGER;

-- import_conflicts: master-data rows that repeat a key inside one file and disagree on a non-empty value. The
-- rows are still folded into one record (later non-empty values win: kept = true marks the value kept); every
-- disagreeing value is listed here (`winback rejects --conflicts`), the first ones in the import's output.
CREATE TABLE import_conflicts (
    import_id  INTEGER NOT NULL,
    kind       VARCHAR NOT NULL,              -- members | stores | staff
    key        VARCHAR NOT NULL,              -- member_id / store_id / guide_id (wx:… for WeChat contacts)
    field      VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,               -- 1-based data row of the file
    value      VARCHAR,                       -- the row's value as read (phones unmasked, like rejects.raw)
    kept       BOOLEAN NOT NULL
);
