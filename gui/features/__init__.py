"""The window's features: each receives the :class:`~gui.workspace.Workspace` and the :class:`~gui.shell.Shell`.

A feature declares its commands (:mod:`gui.actions`), adds its panels and tabs through the shell,
and listens to the workspace's signals. It never imports the main window or another feature:
what one feature does reaches the others as a change of the workspace.
"""
