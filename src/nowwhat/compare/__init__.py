"""Chapter 08: every runtime on the same reviews in one run, the frameworks × targets table, and the decision
guide."""
