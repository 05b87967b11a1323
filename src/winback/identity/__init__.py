"""Identity resolution: find member records that are the same person (splink), merge them, undo the merge."""
