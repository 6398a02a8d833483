"""Coordination bot core: cases, rules, routing, deadlines, dialogue, outbox and jobs."""
