"""Background delivery: queue, threads, outbox, pacing and counters."""
