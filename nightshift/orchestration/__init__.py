"""Partitions, jobs, schedules and sensors."""
