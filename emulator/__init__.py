"""spikeforge.emulator wing."""
