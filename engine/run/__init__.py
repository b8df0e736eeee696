"""Running the engine: the one process pool, the sequential scheduler, the results cache and run events."""
