"""Training and evaluation (DeViSE phase 3 and the paper's metrics): datasets, cached features, losses, fitting."""
