-- The contact ledger grows into the one ledger of every channel (docs/outreach.md).
-- touches.status: queued -> sending -> sent -> delivered | failed | skipped (with `reason`); 'suppressed' rows
-- written before this migration (a closed campaign's queued touches) stay as they are and are never sent.
-- The dispatcher writes 'sending' (with the batch and the attempt) before it calls a channel, so a touch whose
-- result a crash made unknown is found and resolved (from the provider's receipts, or resent with its key).
ALTER TABLE touches ADD COLUMN due_at TIMESTAMP;           -- not before this (journeys); NULL = at once
ALTER TABLE touches ADD COLUMN next_attempt_at TIMESTAMP;  -- retry back-off or end of quiet hours; NULL = at once
ALTER TABLE touches ADD COLUMN attempts INTEGER DEFAULT 0; -- channel calls made for this touch
ALTER TABLE touches ADD COLUMN reason VARCHAR;             -- why skipped / failed / deferred (outreach.ledger.REASONS)
ALTER TABLE touches ADD COLUMN recipient VARCHAR;          -- the address used at send time (phone, e-mail, userid, URL)
ALTER TABLE touches ADD COLUMN sender VARCHAR;             -- the guide's WeCom userid, the SMS signature …
ALTER TABLE touches ADD COLUMN batch_id VARCHAR;           -- the dispatch batch (the SMS out-id) of the last attempt
ALTER TABLE touches ADD COLUMN provider_id VARCHAR;        -- the provider's id (biz id, msgid, Message-ID)
ALTER TABLE touches ADD COLUMN response VARCHAR;           -- last provider answer, trimmed (never a secret)
ALTER TABLE touches ADD COLUMN sending_at TIMESTAMP;
ALTER TABLE touches ADD COLUMN delivered_at TIMESTAMP;
ALTER TABLE touches ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE touches ADD COLUMN journey_id VARCHAR;         -- the journey that queued it (NULL = a one-off campaign)
ALTER TABLE touches ADD COLUMN step INTEGER;               -- the journey's rung / the touch's step
ALTER TABLE touches ADD COLUMN task_id VARCHAR;            -- the guide task this touch stands for (guide_task, ai_call)

ALTER TABLE tasks ADD COLUMN note VARCHAR;                 -- what the guide wrote with the outcome
ALTER TABLE tasks ADD COLUMN outcome_at TIMESTAMP;         -- when the outcome was recorded
ALTER TABLE tasks ADD COLUMN escalated_at TIMESTAMP;       -- overdue: handed to the store manager
ALTER TABLE tasks ADD COLUMN escalated_to VARCHAR;         -- the store manager's guide_id
ALTER TABLE tasks ADD COLUMN exported_at TIMESTAMP;        -- last written to a task sheet
ALTER TABLE tasks ADD COLUMN touch_key VARCHAR;            -- the ledger touch that counts this task's contact

-- Opt-outs by channel ('*' = every channel): inbound 退订/TD replies, WeCom contact deletions, imports, by hand.
CREATE TABLE opt_outs (
    member_id   VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,                      -- sms | wecom | email | … | '*'
    source      VARCHAR NOT NULL,                      -- sms_uplink | wecom_deleted | import | manual
    reason      VARCHAR,                               -- the reply text, the event …
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (member_id, channel)
);

-- Inbound messages and events already applied (an uplink pulled twice changes nothing).
CREATE TABLE inbound_events (
    event_key   VARCHAR PRIMARY KEY,                   -- provider id of the reply / callback
    channel     VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,                      -- uplink | receipt | contact_deleted
    member_id   VARCHAR,
    payload     JSON,
    received_at TIMESTAMP NOT NULL
);

