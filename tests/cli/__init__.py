"""Tests of the spikeforge command line (a package so module names cannot clash)."""
