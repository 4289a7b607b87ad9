"""D days of history for bench.night, built from one real night copied backwards."""
