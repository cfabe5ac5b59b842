"""The learning engine in RTL: the arithmetic of :mod:`spikefab.arch.learning.engine` in Amaranth.

:mod:`.datapath` holds the combinational and few-cycle units (xorshift64, one trace step,
one product of a rule, the final rounding); :mod:`.engine` sequences them over a core's
learning memories.
"""
