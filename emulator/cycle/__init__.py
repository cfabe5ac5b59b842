"""Cycle engine kernel: the core pipeline (update + synapse engines) and host on the mesh fabric."""
