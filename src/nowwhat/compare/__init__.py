"""Chapter 06: every runtime on the same reviews in one run, and the decision guide."""
