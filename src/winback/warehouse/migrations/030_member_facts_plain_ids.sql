-- Issue 14 (full rebuild): member_facts.member_id is stored without compression. DuckDB compresses strings with
-- DICT_FSST by default, and deciding that for 10M distinct member ids took ~3.5 CPU s of every full rebuild's
-- write (the other string columns take a handful of distinct values and keep DICT_FSST; stored without it they
-- would be 8x larger). An id costs ~14 bytes instead of ~5.5 (+87 MiB at 10M current rows). The rows are copied
-- unchanged and checked (count and the sum of every row's hash) before the old table goes.
CREATE TABLE member_facts_030 (
    member_id        VARCHAR NOT NULL USING COMPRESSION uncompressed,
    valid_from       DATE NOT NULL,
    valid_to         DATE,
    store_id         VARCHAR,
    guide_id         VARCHAR,
    tier             VARCHAR,
    register_date    DATE,
    register_channel VARCHAR,
    first_purchase   DATE,
    last_purchase    DATE,
    orders           INTEGER NOT NULL,
    purchase_days    INTEGER NOT NULL,
    monetary         DECIMAL(18, 2) NOT NULL
);
INSERT INTO member_facts_030 SELECT * FROM member_facts;
SELECT error('migration 030: the copy of member_facts differs from the table (' || a.n || ' rows before, ' || b.n
             || ' after); the upgrade was rolled back and the warehouse is unchanged')
FROM (SELECT count(*) AS n, sum(hash(t)::HUGEINT) AS h FROM member_facts t) a,
     (SELECT count(*) AS n, sum(hash(t)::HUGEINT) AS h FROM member_facts_030 t) b
WHERE a.n <> b.n OR a.h IS DISTINCT FROM b.h;
DROP TABLE member_facts;
ALTER TABLE member_facts_030 RENAME TO member_facts;
