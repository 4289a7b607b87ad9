"""Every external system nightshift touches, each behind one ConfigurableResource."""
