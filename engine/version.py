"""Version numbers. ENGINE_VERSION is part of every cache key: bump it when analysis output changes."""

APP_VERSION = "0.1.0"
ENGINE_VERSION = "0.7.1"
