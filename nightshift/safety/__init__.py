"""Safety: the cheap pre-filter every ticket passes before routing, and the policy every drafted reply passes before release."""
