"""Property-based chaos: hypothesis draws fault sequences and shrinks a failing one.

steps    - the fault alphabet: what a step is, its parameters, what may overlap (pure)
pipeline - what a search runs against: the protocol, and a pipeline replayed from
           recorded transitions (unit tests, no cluster)
live     - the real pipeline: each step through harness.chaos, the promises read from
           the cluster and Prometheus
search   - the hypothesis state machine, its budget, the re-run that tells a failure
           from noise, and the log of every sequence tried
replay   - a failing sequence as a runnable chaostoolkit experiment, with its seed
"""
