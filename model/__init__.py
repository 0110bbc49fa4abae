"""The runtime model: backbones, heads, the bundle that turns photos into word-space vectors (Keras)."""
