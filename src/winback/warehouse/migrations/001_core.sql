-- Core master data and ingest bookkeeping (DESIGN §4).
-- Conventions: ids are VARCHAR as exports write them; money is DECIMAL(18,2); unknown export columns are kept
-- in `extra` (JSON object of column -> raw text); every loaded row remembers the import that brought it.

CREATE SEQUENCE IF NOT EXISTS import_id_seq START 1;

CREATE TABLE imports (
    import_id      INTEGER PRIMARY KEY,
    kind           VARCHAR NOT NULL,          -- members | orders | order_items | stores | staff | events
    file           VARCHAR NOT NULL,
    file_sha256    VARCHAR,
    file_format    VARCHAR,                   -- csv | tsv | xlsx | parquet
    encoding       VARCHAR,                   -- utf-8 | utf-8-sig | gb18030 | … (as detected or given)
    date_format    VARCHAR,                   -- what was detected, e.g. "ymd", "mdy", "dmy", "excel-serial"
    mapping        JSON,                      -- source column -> target field
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP,
    rows_in        BIGINT,
    rows_loaded    BIGINT,                    -- inserted + updated
    rows_updated   BIGINT,
    rows_rejected  BIGINT,
    rows_duplicate BIGINT,
    status         VARCHAR NOT NULL           -- committed (a failed import leaves no row at all)
);

CREATE TABLE rejects (
    import_id  INTEGER NOT NULL,
    row_number BIGINT NOT NULL,               -- 1-based data row number in the file (header not counted)
    reason     VARCHAR NOT NULL,
    raw        JSON                           -- the row as it was read, column -> text
);

CREATE TABLE stores (
    store_id   VARCHAR PRIMARY KEY,
    name       VARCHAR,
    city       VARCHAR,
    region     VARCHAR,
    address    VARCHAR,
    latitude   DOUBLE,
    longitude  DOUBLE,
    opened_at  DATE,
    closed_at  DATE,
    extra      JSON,
    import_id  INTEGER,
    updated_at TIMESTAMP
);

CREATE TABLE staff (
    guide_id   VARCHAR PRIMARY KEY,
    name       VARCHAR,
    store_id   VARCHAR,
    role       VARCHAR,                       -- guide | store_manager | …
    phone      VARCHAR,                       -- E.164 when valid
    wechat_id  VARCHAR,
    hired_at   DATE,
    left_at    DATE,
    extra      JSON,
    import_id  INTEGER,
    updated_at TIMESTAMP
);

CREATE TABLE members (
    member_id        VARCHAR PRIMARY KEY,
    name             VARCHAR,
    gender           VARCHAR,                 -- F | M | NULL
    birthday         DATE,
    phone_raw        VARCHAR,                 -- as exported
    phone            VARCHAR,                 -- E.164 when valid (mobile or landline), else NULL
    phone_status     VARCHAR NOT NULL,        -- mobile | landline | invalid | missing
    wechat_id        VARCHAR,
    email            VARCHAR,
    register_date    DATE,
    register_channel VARCHAR,                 -- online | offline | NULL
    register_store   VARCHAR,
    store_id         VARCHAR,                 -- home store (defaults to register_store)
    guide_id         VARCHAR,                 -- exclusive guide 专属导购
    tier             VARCHAR,
    points           DOUBLE,
    consent_sms      BOOLEAN,
    consent_wechat   BOOLEAN,
    consent_email    BOOLEAN,
    consent_call     BOOLEAN,
    opted_out_at     TIMESTAMP,
    source           VARCHAR NOT NULL,        -- erp | guide_wechat | pos | … (from the import or a column)
    merged_into      VARCHAR,                 -- survivor member_id after identity resolution, else NULL
    extra            JSON,
    import_id        INTEGER,
    updated_at       TIMESTAMP
);

-- No primary key on the big fact tables: duplicate checks are anti-joins (fast for 100M rows, no ART index).
CREATE TABLE orders (
    order_id          VARCHAR NOT NULL,
    member_id         VARCHAR,                -- current owner (follows identity merges); NULL = no known member
    source_member_id  VARCHAR,                -- as imported; `dedupe --undo` restores member_id from it
    store_id          VARCHAR,
    guide_id          VARCHAR,
    channel           VARCHAR,                -- offline | online | …
    ordered_at        TIMESTAMP NOT NULL,
    amount            DECIMAL(18, 2) NOT NULL, -- negative for refunds
    quantity          INTEGER,
    status            VARCHAR NOT NULL,       -- paid | refunded | cancelled
    original_order_id VARCHAR,                -- for refunds that name the order they reverse
    lines             INTEGER NOT NULL DEFAULT 1, -- export lines aggregated into this order
    extra             JSON,
    import_id         INTEGER
);

CREATE TABLE order_items (
    order_id  VARCHAR NOT NULL,
    line_no   INTEGER NOT NULL,
    sku       VARCHAR,
    category  VARCHAR,
    quantity  INTEGER,
    amount    DECIMAL(18, 2),
    extra     JSON,
    import_id INTEGER
);

CREATE TABLE events (
    member_id   VARCHAR NOT NULL,
    event_type  VARCHAR NOT NULL,             -- view | click | cart | favourite | visit | …
    occurred_at TIMESTAMP NOT NULL,
    channel     VARCHAR,
    object_id   VARCHAR,                      -- sku, page, campaign node …
    extra       JSON,
    import_id   INTEGER
);
