"""``spikefab.pynn``: a PyNN backend that runs PyNN scripts on spikefab's hardware models.

Change one line of a PyNN script (``import pyNN.nest as sim`` -> ``import spikefab.pynn as
sim``) and it runs on the chip's emulator (``setup(mode="functional" | "cycle")``), on a device
(``setup(device="serial:///dev/ttyUSB1")``) or as the same discrete network in float
(``setup(mode="float")``), for any target (``setup(target="darwin3")``).  Built like PyNN's own
backends on ``pyNN.common`` and ``pyNN.standardmodels``; ``docs/pynn.md`` lists what the chip's
arithmetic supports and how results compare with PyNN's Brian2 backend.
"""

from __future__ import annotations

try:
    import pyNN  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    from spikefab.errors import ToolError
    raise ToolError(f"spikefab.pynn needs PyNN: pip install 'spikefab[pynn]' ({exc})") from None

from pyNN import errors, random, space  # noqa: F401,E402
from pyNN.connectors import *  # noqa: F401,F403,E402
from pyNN.network import Network  # noqa: F401,E402
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution  # noqa: F401,E402
from pyNN.recording import *  # noqa: F401,F403,E402
from pyNN.space import Space  # noqa: F401,E402
from pyNN.standardmodels import StandardCellType  # noqa: E402

from spikefab.pynn.control import (end, get_current_time, get_max_delay,  # noqa: F401,E402
                                   get_min_delay, get_time_step, initialize, num_processes, rank,
                                   reset, run, run_for, run_until, setup)
from spikefab.pynn.populations import Assembly, Population, PopulationView  # noqa: F401,E402
from spikefab.pynn.procedural_api import connect, create, record, record_v  # noqa: F401,E402
from spikefab.pynn.projections import Projection  # noqa: F401,E402
from spikefab.pynn.standardmodels import *  # noqa: F401,F403,E402


def list_standard_models() -> list[str]:
    """The standard cell types this backend runs."""
    return [name for name, obj in globals().items()
            if isinstance(obj, type) and issubclass(obj, StandardCellType)]
