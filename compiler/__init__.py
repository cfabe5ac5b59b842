"""The compiler: models in (NIR, text IR, Python builder), hardware images out.

Imports ``spikeforge.arch`` and never a backend (DESIGN.md section 2).
"""

from spikeforge.compiler.builder import Network
from spikeforge.compiler.hwnet import HwNetwork, LoihiLIF, Population, Projection

__all__ = ["Network", "LoihiLIF", "HwNetwork", "Population", "Projection"]
