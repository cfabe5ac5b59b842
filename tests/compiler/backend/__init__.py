"""Tests of the compiler back end: partition, place, route, emit, driver, CLI."""
