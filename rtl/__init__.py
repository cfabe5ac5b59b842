"""spikeforge.rtl wing."""
