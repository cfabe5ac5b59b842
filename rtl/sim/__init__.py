"""RTL simulation: the host program for a :class:`~spikeforge.rtl.mesh.Mesh` and simulator drivers."""
