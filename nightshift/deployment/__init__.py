"""Beyond one process tree: where the steps of a night run (Celery over Redis) and the servers a cluster needs,
started on loopback for the tests and the cluster benchmark."""
