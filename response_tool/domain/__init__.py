"""The domain layer: the vocabulary, the read model, the measurement table and the errors.

It imports nothing else of the project; every other layer speaks its words
(docs/design.md, "Layers").
"""
