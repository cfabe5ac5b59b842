"""Tests of spikefab.compiler."""
