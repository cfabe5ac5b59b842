# encoding: utf-8
"""
STDP on spike pairs: the learning window of PyNN's SpikePairRule, one synapse per timing

Eight plastic synapses (SpikePairRule, additive weight dependence) each join one source to one
IF_curr_exp cell.  Every 100 ms the source fires once and a teacher input makes the cell fire
once, ``delta`` ms after the source (negative: before it), ten times over.  Brian2's backend
needs dendritic_delay_fraction=0.  The learned weights and the spike times go to the .npz file
named on the command line; the tests replace only the import line below to run it on PyNN's
Brian2 backend or on spikefab.pynn.

Usage: python stdp_pairs.py OUT.npz [key=value setup options]
"""

import sys

import numpy as np
import pyNN.brian2 as sim

extra = dict(arg.split("=", 1) for arg in sys.argv[2:])

dt = 0.1                                             # (ms)
deltas = [-20.0, -10.0, -5.0, -2.0, 2.0, 5.0, 10.0, 20.0]   # post - pre (ms)
n = len(deltas)
t_pre = [30.0 + 100.0 * k for k in range(10)]
latency = 0.4                                        # teacher input to post spike (ms)
w0, w_max = 0.1, 0.2                                 # (nA)
simtime = 1050.0

sim.setup(timestep=dt, **extra)
pre = sim.Population(n, sim.SpikeSourceArray(spike_times=[t_pre] * n), label="pre")
teacher = sim.Population(n, sim.SpikeSourceArray(
    spike_times=[[round(t + d - latency, 1) for t in t_pre] for d in deltas]), label="teacher")
post = sim.Population(n, sim.IF_curr_exp(tau_m=20.0, tau_syn_E=0.5, v_rest=-65.0,
                                         v_reset=-65.0, v_thresh=-50.0, cm=1.0,
                                         tau_refrac=5.0), label="post")
stdp = sim.STDPMechanism(
    timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.04,
                                        A_minus=0.048),
    weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=w_max),
    weight=w0, delay=dt, dendritic_delay_fraction=0)
plastic = sim.Projection(pre, post, sim.OneToOneConnector(), stdp)
sim.Projection(teacher, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=60.0, delay=dt))
post.record("spikes")

sim.run(simtime)

trains = post.get_data().segments[0].spiketrains
np.savez(sys.argv[1],
         **{"post.times": np.concatenate([np.asarray(st.magnitude) for st in trains]),
            "post.index": np.concatenate([np.full(len(st), i) for i, st in enumerate(trains)]),
            "post.size": np.array(n),
            "weights": np.diag(np.asarray(plastic.get("weight", format="array"), float)),
            "w0": np.array(w0), "w_max": np.array(w_max), "deltas": np.array(deltas),
            "t_pre": np.array(t_pre), "tstop": np.array(simtime)})

sim.end()
