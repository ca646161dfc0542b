"""The workshop's delivery: notebooks, slides, diagrams, memory, summary."""
