# coding: utf-8
"""
Balanced network of excitatory and inhibitory neurons: benchmark 1 (CUBA) of

    Brette et al. (2007) Journal of Computational Neuroscience 23: 349-398

PyNN's examples/VAbenchmarks.py (Andrew Davison, UNIC, CNRS), CUBA branch, with separate
populations (no views, assembly or CSA options).  Changes for the spikefab test suite: the
backend is imported directly instead of through get_simulator(), and the recorded spikes are
written to the .npz file named on the command line instead of Neo pickles.  The tests replace
only the import line below to run it on PyNN's Brian2 backend or on spikefab.pynn.

Usage: python va_cuba.py OUT.npz [key=value setup options]
"""

import sys
from math import *

import numpy
import pyNN.brian2 as sim
from pyNN.random import NumpyRNG, RandomDistribution

extra = dict(arg.split("=", 1) for arg in sys.argv[2:])

# === Define parameters ========================================================

rngseed  = 98765
parallel_safe = True

n        = 4000  # number of cells
r_ei     = 4.0   # number of excitatory cells:number of inhibitory cells
pconn    = 0.02  # connection probability

dt       = 0.1   # (ms) simulation timestep
tstop    = 1000  # (ms) simulaton duration
delay    = 0.2

# Cell parameters
area     = 20000. # (µm²)
tau_m    = 20.    # (ms)
cm       = 1.     # (µF/cm²)
g_leak   = 5e-5   # (S/cm²)
E_leak   = -49.  # (mV)
v_thresh = -50.   # (mV)
v_reset  = -60.   # (mV)
t_refrac = 5.     # (ms) (clamped at v_reset)
v_mean   = -60.   # (mV) 'mean' membrane potential, for calculating CUBA weights
tau_exc  = 5.     # (ms)
tau_inh  = 10.    # (ms)

# Synapse parameters
Gexc = 0.27   # (nS) #Those weights should be similar to the COBA weights
Ginh = 4.5    # (nS) # but the delpolarising drift should be taken into account
Erev_exc = 0.     # (mV)
Erev_inh = -80.   # (mV)

# === Calculate derived parameters =============================================

area  = area*1e-8                     # convert to cm²
cm    = cm*area*1000                  # convert to nF
Rm    = 1e-6/(g_leak*area)            # membrane resistance in MΩ
assert tau_m == cm*Rm                 # just to check
n_exc = int(round((n*r_ei/(1+r_ei)))) # number of excitatory cells
n_inh = n - n_exc                     # number of inhibitory cells
celltype = sim.IF_curr_exp
w_exc = 1e-3*Gexc*(Erev_exc - v_mean)  # (nA) weight of excitatory synapses
w_inh = 1e-3*Ginh*(Erev_inh - v_mean)  # (nA)
assert w_exc > 0; assert w_inh < 0

# === Build the network ========================================================

node_id = sim.setup(timestep=dt, min_delay=delay, max_delay=1.0, **extra)

cell_params = {
    'tau_m'      : tau_m,    'tau_syn_E'  : tau_exc,  'tau_syn_I'  : tau_inh,
    'v_rest'     : E_leak,   'v_reset'    : v_reset,  'v_thresh'   : v_thresh,
    'cm'         : cm,       'tau_refrac' : t_refrac}

exc_cells = sim.Population(n_exc, celltype(**cell_params), label="Excitatory_Cells")
inh_cells = sim.Population(n_inh, celltype(**cell_params), label="Inhibitory_Cells")

rng = NumpyRNG(seed=rngseed, parallel_safe=parallel_safe)
uniformDistr = RandomDistribution('uniform', low=v_reset, high=v_thresh, rng=rng)
exc_cells.initialize(v=uniformDistr)
inh_cells.initialize(v=uniformDistr)

connector = sim.FixedProbabilityConnector(pconn, rng=rng)
exc_syn = sim.StaticSynapse(weight=w_exc, delay=delay)
inh_syn = sim.StaticSynapse(weight=w_inh, delay=delay)

connections = {}
connections['e2e'] = sim.Projection(exc_cells, exc_cells, connector, exc_syn, receptor_type='excitatory')
connections['e2i'] = sim.Projection(exc_cells, inh_cells, connector, exc_syn, receptor_type='excitatory')
connections['i2e'] = sim.Projection(inh_cells, exc_cells, connector, inh_syn, receptor_type='inhibitory')
connections['i2i'] = sim.Projection(inh_cells, inh_cells, connector, inh_syn, receptor_type='inhibitory')

exc_cells.record('spikes')
inh_cells.record('spikes')
exc_cells[0, 1].record('v')

# === Run simulation ===========================================================

sim.run(tstop)

E_count = exc_cells.mean_spike_count()
I_count = inh_cells.mean_spike_count()
print("Excitatory rate        : %g Hz" % (E_count * 1000.0 / tstop,))
print("Inhibitory rate        : %g Hz" % (I_count * 1000.0 / tstop,))

out = {}
for pop in (exc_cells, inh_cells):
    trains = pop.get_data().segments[0].spiketrains
    out[pop.label + ".times"] = numpy.concatenate([numpy.asarray(st.magnitude) for st in trains])
    out[pop.label + ".index"] = numpy.concatenate([numpy.full(len(st), i) for i, st in enumerate(trains)])
    out[pop.label + ".size"] = numpy.array(pop.size)
vm = exc_cells.get_data().segments[0].filter(name="v")[0]
out["v"] = numpy.asarray(vm.magnitude)
out["tstop"] = numpy.array(float(tstop))
numpy.savez(sys.argv[1], **out)

sim.end()
