"""Triage: the classifier and its versioned artifact, the cache threshold chosen from data, the routing rules, evaluation."""
