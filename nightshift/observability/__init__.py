"""Seeing what a night did: one ticket's journey through every stage, and the day's failures."""
