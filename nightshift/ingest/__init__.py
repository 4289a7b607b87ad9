"""Ingest: landing files read, mapped, checked against the rules of a good ticket, redacted; sample and replayed data; the text encoders."""
