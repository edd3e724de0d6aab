"""Developer tooling: the offline Pulumi engine, the local stack runner, delivery checks."""
