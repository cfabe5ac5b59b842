"""Tests of spikeforge.compiler."""
