"""Appeal tests start from an empty cache (statistics are cached per user and period for a minute): the root
conftest's `_empty_cache` gives every test a cache namespace of its own."""
