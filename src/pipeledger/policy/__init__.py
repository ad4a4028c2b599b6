"""The policy engine: load a policy file, assemble deployments from events, evaluate rules
into findings. Platform-neutral: it sees only audit events."""
