"""Reporting: the digest's themes and spikes, and the cost-and-quality table as people read it."""
