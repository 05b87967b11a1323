-- member_segments becomes a view over member_snapshot and the rules each refresh used (snapshot_runs.rules):
-- a segment is a pure function of the snapshot row, so it is no longer stored (60M rows per 10M-member refresh).
-- The old rows are set aside; after the last pending migration the runner recreates the view from snapshot_runs
-- (winback.lifecycle.segments_view.rebuild_segments_view) and drops them if the view gives exactly the same rows,
-- or keeps them as member_segments_v4 if not (docs/lifecycle.md). This placeholder only fixes the columns.
ALTER TABLE member_segments RENAME TO member_segments_v4;
CREATE VIEW member_segments AS
SELECT CAST(NULL AS DATE) AS as_of, CAST(NULL AS VARCHAR) AS scheme, CAST(NULL AS VARCHAR) AS member_id,
       CAST(NULL AS VARCHAR) AS segment
WHERE false;
