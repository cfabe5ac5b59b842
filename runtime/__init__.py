"""spikeforge.runtime wing."""
