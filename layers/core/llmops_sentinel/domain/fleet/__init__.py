"""The fleet: which SageMaker endpoints one stack watches (by tag or config) and each one's policy."""
