# encoding: utf-8
"""
Small network created with the Population and Projection classes

PyNN's examples/small_network.py, current-based: the cells are IF_curr_exp instead of
IF_cond_alpha (weights in nA instead of uS), there are 100 of them instead of 20 so that the
spike statistics mean something, and a SpikeSourcePoisson population adds inhibitory background
input next to the example's SpikeSourceArray.  Recorded spikes go to the .npz file named on the
command line.  The tests replace only the import line below to run it on PyNN's Brian2 backend
or on spikefab.pynn.

Usage: python small_network.py OUT.npz [key=value setup options]
"""

import sys

import numpy as np
import pyNN.brian2 as sim
from pyNN.parameters import Sequence
from pyNN.random import RandomDistribution as rnd, NumpyRNG

extra = dict(arg.split("=", 1) for arg in sys.argv[2:])

# === Define parameters ========================================================

n = 100      # Number of cells
w = 0.06     # excitatory synaptic weight (nA)
w_inh = -0.1 # inhibitory synaptic weight (nA)
cell_params = {
    'tau_m'      : 20.0,   # (ms)
    'tau_syn_E'  : 2.0,    # (ms)
    'tau_syn_I'  : 4.0,    # (ms)
    'tau_refrac' : 2.0,    # (ms)
    'v_rest'     : -60.0,  # (mV)
    'v_reset'    : -70.0,  # (mV)
    'v_thresh'   : -50.0,  # (mV)
    'cm'         : 0.5}    # (nF)
dt         = 0.1           # (ms)
syn_delay  = 1.0           # (ms)
input_rate = 50.0          # (Hz)
simtime    = 1000.0        # (ms)
seed       = 945645645

# === Build the network ========================================================

sim.setup(timestep=dt, max_delay=syn_delay, **extra)

rng = NumpyRNG(seed=seed)

cells = sim.Population(n, sim.IF_curr_exp(**cell_params),
                       initial_values={'v': rnd('uniform', (-60.0, -50.0), rng)},
                       label="cells")

number = int(2 * simtime * input_rate / 1000.0)
np.random.seed(26278342)


def generate_spike_times(i):
    gen = lambda: Sequence(np.add.accumulate(dt + np.random.exponential(1000.0 / input_rate, size=number)))
    if hasattr(i, "__len__"):
        return [gen() for j in i]
    else:
        return gen()
assert generate_spike_times(0).max() > simtime

spike_source = sim.Population(n, sim.SpikeSourceArray(spike_times=generate_spike_times))
background = sim.Population(20, sim.SpikeSourcePoisson(rate=20.0), label="background")

cells.record('spikes')
cells[0:2].record('v')

syn = sim.StaticSynapse(weight=w, delay=syn_delay)
input_conns = sim.Projection(spike_source, cells, sim.FixedProbabilityConnector(0.5, rng=rng), syn)
inh_conns = sim.Projection(background, cells, sim.FixedProbabilityConnector(0.5, rng=rng),
                           sim.StaticSynapse(weight=w_inh, delay=syn_delay),
                           receptor_type='inhibitory')

# === Run simulation ===========================================================

sim.run(simtime)

print("Mean firing rate: ", cells.mean_spike_count() * 1000.0 / simtime, "Hz")

trains = cells.get_data().segments[0].spiketrains
np.savez(sys.argv[1],
         **{"cells.times": np.concatenate([np.asarray(st.magnitude) for st in trains]),
            "cells.index": np.concatenate([np.full(len(st), i) for i, st in enumerate(trains)]),
            "cells.size": np.array(n),
            "v": np.asarray(cells.get_data().segments[0].filter(name="v")[0].magnitude),
            "tstop": np.array(simtime)})

# === Clean up and quit ========================================================

sim.end()
