-- member_snapshot: value in one unit (issue 9). expected_revenue_90d = expected purchase days in the next 90 days
-- × expected value per purchase day (Gamma-Gamma on the mean value per purchase day); clv = the same over 365
-- days. clv_flag says why a member's expected_revenue_90d and clv are rough: comma-separated words
-- purchase_model_not_converged | value_model_not_converged | no_value_model (NULL: both fits converged).
-- Snapshots built before this migration keep NULL in both (refresh them to fill the columns).
ALTER TABLE member_snapshot ADD COLUMN expected_revenue_90d DOUBLE;
ALTER TABLE member_snapshot ADD COLUMN clv_flag VARCHAR;
