"""Foundry datasets as triggers of retraining: what a branch's head is, which commit is news, and the assets
that name datasets."""
