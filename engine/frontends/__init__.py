"""Front ends without Qt: the command line, diagnostics and the demo songs."""
