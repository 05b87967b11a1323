"""Lifecycle: member snapshots (recency, frequency, monetary, purchase cycle, P(alive), CLV), segmentation schemes
defined as rules, RFM, value layers, transitions and explanations. See docs/lifecycle.md."""
