"""The ``sentinel`` command: the same code the Lambdas run, for an operator's laptop."""
