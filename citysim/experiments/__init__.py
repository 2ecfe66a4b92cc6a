"""Experiments: replications, regime comparisons, sweeps, sensitivity analysis and lever attribution.

* :func:`run_many` runs a list of :class:`RunSpec` over local worker processes;
* :func:`citysim.experiments.sweep.run_sweep` runs an experiment's design, resumably, on local
  workers or a Dask cluster, one file per finished run;
* :mod:`~citysim.experiments.compare`, :mod:`~citysim.experiments.analyze` and
  :mod:`~citysim.experiments.attribute` turn the runs into confidence intervals, sensitivity
  indices and Shapley attributions of lever groups.

Only :mod:`citysim.experiments.headline` knows where a metric lives in a run's metrics.
"""

from citysim.experiments.runner import RunSpec, Task, run_many, run_task

__all__ = ["RunSpec", "Task", "run_many", "run_task"]
