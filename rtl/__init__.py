"""spikefab.rtl wing: the chip as Amaranth hardware, its simulation and its FPGA builds.

Compute fabric (``docs/microarchitecture.md``):

* :mod:`spikefab.rtl.params` — ``mesh_params(target)`` (every width/depth from the Target),
  table layouts, ``check_rtl_image`` (typed refusal of unfit images);
* :mod:`spikefab.rtl.lif` — ``LifUnit``, the bit-exact Loihi LIF datapath;
* :mod:`spikefab.rtl.neuron_core` — ``NeuronCore``, the ``parallel`` core (wide block RAMs,
  update and synapse engines);
* :mod:`spikefab.rtl.serial_core` — ``SerialCore``, the ``serial`` core for small FPGAs
  (16-bit single-port RAMs: :mod:`spikefab.rtl.spram`, the iCE40 UP5K's SPRAMs);
* :mod:`spikefab.rtl.accumulators` — ``AccumulatorRing``, the dendritic ring both cores share
  (Lava's per-(source step, delay) floor through a bucket tag per word);
* :mod:`spikefab.rtl.route_emitter` — ``RouteEmitter``, a spiking neuron's route entries, one
  packet per cycle with credit (both cores);
* :mod:`spikefab.rtl.router` — ``Router`` (routing from :mod:`spikefab.arch.mesh`, round robin,
  credits);
* :mod:`spikefab.rtl.mesh` — ``Mesh`` (cores + routers + host port + barrier, section-11
  control interface);
* :mod:`spikefab.rtl.sim` — host program, Amaranth-simulator and cocotb drivers
  (``driver.simulate``, ``driver.build_simulator``).

Submodules are imported explicitly (Amaranth is only needed when they are).
"""
