"""Campaigns: scenarios, audiences, assignment (holdout/variants), coupons, redemption and measurement."""
