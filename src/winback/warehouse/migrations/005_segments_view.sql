-- member_segments becomes a view over member_snapshot and the rules each refresh used (snapshot_runs.rules):
-- a segment is a pure function of the snapshot row, so it is no longer stored (60M rows per 10M-member refresh).
-- The migration runner recreates the view from the existing snapshot_runs right after this file
-- (winback.lifecycle.segments_view.rebuild_segments_view); this placeholder only fixes the columns.
DROP TABLE member_segments;
CREATE VIEW member_segments AS
SELECT CAST(NULL AS DATE) AS as_of, CAST(NULL AS VARCHAR) AS scheme, CAST(NULL AS VARCHAR) AS member_id,
       CAST(NULL AS VARCHAR) AS segment
WHERE false;
