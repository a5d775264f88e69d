"""The ``sentinel`` command: the same code the Lambdas run, for an operator's laptop.

Process start counts in every command, so before anything imports numpy: OpenBLAS runs one thread
unless the user chose otherwise. Its default pool (one thread per core) is started when numpy is
imported and costs ~0.1 s of CPU per process; nothing the CLI computes is a matrix product large
enough to use it (the largest, MMD's 200 x 200 kernel on embeddings, takes microseconds).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
