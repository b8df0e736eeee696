"""Audio to chunk features: what pool workers run (decode, tempo, key) and how chunks combine into a song."""
