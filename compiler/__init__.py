"""The compiler: models in (NIR, text IR, Python builder), hardware images out.

Imports ``spikefab.arch`` and never a backend (DESIGN.md section 2).
"""

from spikefab.compiler.builder import Network
from spikefab.compiler.driver import compile
from spikefab.compiler.frontends import load_model
from spikefab.compiler.hwnet import HwNetwork, LoihiLIF, Population, Projection
from spikefab.compiler.ir import Graph

__all__ = ["compile", "load_model", "Graph", "Network", "LoihiLIF", "HwNetwork", "Population", "Projection"]
