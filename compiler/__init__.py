"""The compiler: models in (NIR, text IR, Python builder), hardware images out.

Imports ``spikeforge.arch`` and never a backend (DESIGN.md section 2).
"""

from spikeforge.compiler.builder import Network
from spikeforge.compiler.driver import compile
from spikeforge.compiler.frontends import load_model
from spikeforge.compiler.hwnet import HwNetwork, LoihiLIF, Population, Projection
from spikeforge.compiler.ir import Graph

__all__ = ["compile", "load_model", "Graph", "Network", "LoihiLIF", "HwNetwork", "Population", "Projection"]
