"""The desktop window. Importing this package must stay cheap: no librosa, no engine run."""
