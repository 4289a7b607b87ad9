"""Prompt versions. A version is part of every cache key and output row: changing a prompt's
wording means a new version, so answers written for the old wording are never served for it."""

SUPPORT_REPLY = "support-reply-v1"
