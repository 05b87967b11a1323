"""Data quality: how many members are usable, which fields are missing, what cannot be joined."""
