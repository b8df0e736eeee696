"""Reference values: reading reference files and tags, pairing them with songs, key notation and scoring."""
