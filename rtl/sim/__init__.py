"""RTL simulation: the host program for a :class:`~spikefab.rtl.mesh.Mesh` and simulator drivers."""
