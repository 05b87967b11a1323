"""The brand at a glance: how many members are valid, how many asleep, who is worth waking."""
