"""Reports of one run: spike rasters, placement, NoC traffic, cycles and energy as PNGs + JSON.

Imports ``spikeforge.arch`` and matplotlib (Agg); it runs an image through
:func:`spikeforge.api.run` and never imports the compiler.
"""

from spikeforge.report.build import generate, spike_probes, write_report
from spikeforge.report.traffic import LinkTraffic, link_traffic, population_spike_counts

__all__ = ["generate", "write_report", "spike_probes", "LinkTraffic", "link_traffic",
           "population_spike_counts"]
