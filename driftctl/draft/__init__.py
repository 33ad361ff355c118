"""Drafting: candidate fixes (revert or adopt) for each drift finding."""
