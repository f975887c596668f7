"""The newswire processes: the CLI, the Celery app and its thin tasks, the scheduler."""
