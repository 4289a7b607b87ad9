"""The help centre: articles read and cut into passages, their LanceDB index and hybrid search, retrieval evaluation."""
