"""The test suite: a package, so helpers are imported as ``tests.unit.record_helpers``."""
