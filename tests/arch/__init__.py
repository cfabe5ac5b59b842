"""Tests of spikefab.arch (a package so its module names cannot clash with other wings)."""
