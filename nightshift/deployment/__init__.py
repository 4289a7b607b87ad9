"""Running a night on more than one process tree: Celery workers, and the settings that place steps on them."""
