"""Chapter 07: every runtime on the same reviews in one run, the frameworks × targets table, and the decision
guide."""
