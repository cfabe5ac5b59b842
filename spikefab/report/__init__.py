"""Reports of one run: spike rasters, placement, NoC traffic, cycles and energy as PNGs + JSON.

Imports ``spikefab.arch`` and matplotlib (Agg); it runs an image through
:func:`spikefab.api.run` and never imports the compiler.
"""

from spikefab.report.build import generate, spike_probes, write_report
from spikefab.report.traffic import LinkTraffic, link_traffic, population_spike_counts

__all__ = ["generate", "write_report", "spike_probes", "LinkTraffic", "link_traffic",
           "population_spike_counts"]
