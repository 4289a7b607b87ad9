"""Quality: the Great Expectations suites and the category-mix distance."""
