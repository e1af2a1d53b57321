"""Learned growth models (scikit-learn). Nothing here yet: arrives with the learned-model issue."""
