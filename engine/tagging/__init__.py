"""Write analysed BPM and key into the songs' own tags: planned and previewed, journaled, crash-safe, undoable.

plan (what would change) -> preview (table) -> batch (journal first, then one atomic file write
per song) -> undo / finish an interrupted batch from the journal. See ``docs/reliability.md``.
"""
