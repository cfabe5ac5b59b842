"""Tests of the spikefab command line (a package so module names cannot clash)."""
