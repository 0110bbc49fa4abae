"""Word vectors: where they come from (builtin GloVe, word2vec/GloVe/fastText files, skip-gram training),
the memory-mapped lookup the query path uses, and WordNet's noun hierarchy. No Keras, no TensorFlow."""
